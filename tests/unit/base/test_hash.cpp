// XXH64 against the reference values of xxHash (the same as `xxhsum -H64` prints), on every
// path of the function: the short tail, the 4- and 8-byte steps, and the 32-byte stripes.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "base/hash.h"

using namespace cardsynth;

TEST_CASE("xxh64 gives xxHash's reference values", "[hash]") {
    CHECK(xxh64("") == 0xEF46DB3751D8E999ull);
    CHECK(xxh64("a") == 0xD24EC4F1A98C6E5Bull);
    CHECK(xxh64("abc") == 0x44BC2CF5AD770999ull);
    // 39 bytes: one 32-byte stripe, then the 4-byte and single-byte tails.
    CHECK(xxh64("Nobody inspects the spammish repetition") == 0xFBCEA83C8A378BF1ull);
}

TEST_CASE("xxh64 of a buffer is the xxh64 of its string, and the seed changes it", "[hash]") {
    const std::string text = "card images are read whole anyway, so hashing them costs little";
    CHECK(xxh64(text.data(), text.size()) == xxh64(text));
    CHECK(xxh64(text, 1) != xxh64(text, 0));
}

TEST_CASE("xxh64 tells apart buffers that differ in one byte anywhere", "[hash]") {
    // Lengths around the stripe and step boundaries, the byte changed at every position.
    for (size_t n : {1u, 3u, 4u, 7u, 8u, 31u, 32u, 33u, 64u, 100u}) {
        std::vector<unsigned char> bytes(n);
        for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<unsigned char>(i * 7 + 1);
        const uint64_t base = xxh64(bytes.data(), n);
        for (size_t i = 0; i < n; ++i) {
            bytes[i] ^= 0x10;
            CHECK(xxh64(bytes.data(), n) != base);
            bytes[i] ^= 0x10;
        }
        CHECK(xxh64(bytes.data(), n) == base);
    }
}

TEST_CASE("file stamps are equal only when size, time and hash all are", "[hash]") {
    const FileStamp a{10, 1700000000123456789, 0xABCDull};
    FileStamp b = a;
    CHECK(a == b);
    b.mtime_ns += 1;
    CHECK(a != b);
    b = a;
    b.size = 11;
    CHECK(a != b);
    b = a;
    b.hash = 0xABCEull;
    CHECK(a != b);
}
