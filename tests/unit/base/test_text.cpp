// The shared string helpers: case folding, trimming and printf-style formatting.
#include <string>

#include <catch2/catch.hpp>

#include "base/text.h"

using namespace cardsynth;

TEST_CASE("lower folds ASCII letters and keeps every other byte", "[text]") {
    CHECK(lower("Card.JPG") == "card.jpg");
    CHECK(lower("") == "");
    CHECK(lower("already lower 123 _-") == "already lower 123 _-");
    // UTF-8 "Ä" stays as it is: its bytes are not ASCII letters.
    CHECK(lower("\xC3\x84Z") == "\xC3\x84z");
}

TEST_CASE("trim drops blanks at both ends only", "[text]") {
    CHECK(trim("  rank \t\r\n") == "rank");
    CHECK(trim("a b") == "a b");
    CHECK(trim(" \t\r\n") == "");
    CHECK(trim("") == "");
    // With blanks of the caller's choice, other whitespace stays.
    CHECK(trim(" key\n\t", " \t") == "key\n");
}

TEST_CASE("format prints like printf into a string of any length", "[text]") {
    CHECK(format("%04d", 7) == "0007");
    CHECK(format("%.1f%% of draws", 12.345) == "12.3% of draws");
    CHECK(format("Builtin %04d %s %s", 12, "Red", "Dragon") == "Builtin 0012 Red Dragon");
    CHECK(format("%s", "") == "");
    const std::string long_text(1000, 'x');
    const std::string out = format("<%s>", long_text.c_str());
    CHECK(out.size() == 1002);
    CHECK(out == "<" + long_text + ">");
    CHECK(format("\\x%02x", 7) == "\\x07");
}

TEST_CASE("byte sizes read as people write them", "[text]") {
    CHECK(byte_size_text(512) == "512 bytes");
    CHECK(byte_size_text(1 << 20) == "1 MiB");
    CHECK(byte_size_text(256.0 * (1 << 20)) == "256 MiB");
    CHECK(byte_size_text(1.5 * (1 << 30)) == "1.5 GiB");
}
