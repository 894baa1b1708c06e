#include "base/hash.h"

#include <cstring>

namespace cardsynth {
namespace {

// The constants and steps of the XXH64 specification (xxhash.com, doc/xxhash_spec.md).
constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ull;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ull;

uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

// Little-endian loads whatever the alignment (memcpy compiles to one move on x86).
uint64_t load64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
uint32_t load32(const unsigned char* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint64_t lane_round(uint64_t acc, uint64_t lane) {
    return rotl(acc + lane * kPrime2, 31) * kPrime1;
}

uint64_t merge(uint64_t acc, uint64_t lane) {
    return (acc ^ lane_round(0, lane)) * kPrime1 + kPrime4;
}

// Four accumulators over 32-byte stripes; returns the converged value and advances `p`.
uint64_t stripes(const unsigned char*& p, const unsigned char* end, uint64_t seed) {
    uint64_t v1 = seed + kPrime1 + kPrime2, v2 = seed + kPrime2, v3 = seed, v4 = seed - kPrime1;
    for (; end - p >= 32; p += 32) {
        v1 = lane_round(v1, load64(p));
        v2 = lane_round(v2, load64(p + 8));
        v3 = lane_round(v3, load64(p + 16));
        v4 = lane_round(v4, load64(p + 24));
    }
    uint64_t acc = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    for (uint64_t v : {v1, v2, v3, v4}) acc = merge(acc, v);
    return acc;
}

}  // namespace

uint64_t xxh64(const void* data, size_t size, uint64_t seed) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    const unsigned char* end = p + size;
    uint64_t acc = size >= 32 ? stripes(p, end, seed) : seed + kPrime5;
    acc += static_cast<uint64_t>(size);
    for (; end - p >= 8; p += 8) acc = rotl(acc ^ lane_round(0, load64(p)), 27) * kPrime1 + kPrime4;
    if (end - p >= 4) {
        acc = rotl(acc ^ (load32(p) * kPrime1), 23) * kPrime2 + kPrime3;
        p += 4;
    }
    for (; p < end; ++p) acc = rotl(acc ^ (*p * kPrime5), 11) * kPrime1;
    acc ^= acc >> 33;
    acc *= kPrime2;
    acc ^= acc >> 29;
    acc *= kPrime3;
    acc ^= acc >> 32;
    return acc;
}

}  // namespace cardsynth
