#include <catch2/catch.hpp>

#include "base/error.h"
#include "export/split.h"

using namespace cardsynth;

TEST_CASE("splitmix64 gives the reference generator's outputs") {
    CHECK(splitmix64(0) == 0xe220a8397b1dcdafull);
    CHECK(splitmix64(1) == 0x910a2dec89025cc1ull);
    CHECK(splitmix64(12345) == 0x22118258a9d111a0ull);
}

// The same values as tests/integration/test_torch_dataset.py's, so that the exporter and the
// Python Dataset put every image in the same split.
TEST_CASE("the split draw is fixed by (seed, i)") {
    CHECK(split_draw(0, 0) == 0.6524484863740322);
    CHECK(split_draw(7, 3) == 0.9082131990553513);
    CHECK(split_draw(42, 7) == 0.4323047487697754);
    CHECK(split_draw(~0ull, 123456789) == 0.07031370377424084);
}

TEST_CASE("images go to the first split whose cumulative fraction exceeds the draw") {
    const SplitSpec spec = parse_split("train=0.7,val=0.2,test=0.1", "--split");
    const int expected[20] = {0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 2, 1, 0, 0, 0, 0};
    for (int i = 0; i < 20; ++i) CHECK(split_of(spec, 7, i) == expected[i]);
}

TEST_CASE("an image's split does not depend on how many images there are or their order") {
    const SplitSpec spec = parse_split("train=0.9,val=0.1", "--split");
    std::vector<int> first;
    for (uint64_t i = 0; i < 1000; ++i) first.push_back(split_of(spec, 99, i));
    for (uint64_t i = 999; i + 1 > 0; --i) CHECK(split_of(spec, 99, i) == first[i]);
    const long val = std::count(first.begin(), first.end(), 1);
    CHECK(val > 60);
    CHECK(val < 140);
}

TEST_CASE("the split option is checked") {
    CHECK(parse_split("val=0.25,train=0.75", "--split")[0].name == "val");
    CHECK_THROWS_AS(parse_split("train=0.9,val=0.2", "--split"), ConfigError);
    CHECK_THROWS_AS(parse_split("train=1,val=0", "--split"), ConfigError);
    CHECK_THROWS_AS(parse_split("train=0.5,dev=0.5", "--split"), ConfigError);
    CHECK_THROWS_AS(parse_split("train=0.5,train=0.5", "--split"), ConfigError);
    CHECK_THROWS_AS(parse_split("train", "--split"), ConfigError);
    CHECK_THROWS_AS(parse_split("train=x", "--split"), ConfigError);
    CHECK(parse_split("train=1", "--split").size() == 1);
}
