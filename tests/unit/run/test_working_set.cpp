// The per-rank memory estimate made before rendering, and the refusal that names both numbers.
#include <catch2/catch.hpp>
#include <string>

#include "base/error.h"
#include "run/working_set.h"

using namespace cardsynth;

TEST_CASE("the working set grows with the frame, the threads and cache_mb", "[working_set]") {
    Config c;
    c.frame.width = 1024;
    c.frame.height = 768;
    c.cache_mb = 64;
    c.cards.dirs = {"cards"};  // an unknown number of cards: all of cache_mb counts
    const WorkingSet one = estimate_working_set(c, 1);
    const WorkingSet four = estimate_working_set(c, 4);
    CHECK(four.frames == 4 * one.frames);
    CHECK(one.frames >= 1024 * 768 * 4);  // RGB and ids at least
    CHECK(one.cache == 64ll << 20);
    CHECK(one.rounds >= 2 * kRoundBytesBudget * 9 / 10);
    c.frame.width = 2048;
    CHECK(estimate_working_set(c, 1).playmats == 2 * one.playmats);
}

TEST_CASE("small runs and small decks count what they can fill", "[working_set]") {
    Config c;
    c.num_images = 10;
    c.cards.builtin_count = 10;
    const WorkingSet w = estimate_working_set(c, 1);
    CHECK(w.cache < (c.cache_mb << 20));
    CHECK(w.cache > 10 * 260 * 180 * 4);
    CHECK(w.rounds < 2 * kRoundBytesBudget);
}

TEST_CASE("the largest frame needs more than 15 GB per rank", "[working_set]") {
    Config c;
    c.frame.width = 16384;
    c.frame.height = 16384;
    CHECK(estimate_working_set(c, 2).total() > 15ll * 1000 * 1000 * 1000);
}

TEST_CASE("a working set beyond the memory is refused with both numbers", "[working_set]") {
    Config c;
    c.frame.width = 640;
    c.frame.height = 480;
    const WorkingSet w = estimate_working_set(c, 2);
    CHECK_NOTHROW(check_working_set(w, c, 2, 1, 0, "unknown"));  // nothing known: no check
    CHECK_NOTHROW(check_working_set(w, c, 2, 1, w.total(), "test"));
    try {
        check_working_set(w, c, 2, 2, w.total(), "test");  // two ranks share the node
        FAIL("not refused");
    } catch (const ConfigError& e) {
        const std::string why = e.what();
        CHECK(why.find("640x480") != std::string::npos);
        CHECK(why.find("frame.width") != std::string::npos);
        CHECK(why.find("cache_mb") != std::string::npos);
        CHECK(why.find("threads") != std::string::npos);
        CHECK(why.find("2 ranks") != std::string::npos);
    }
}
