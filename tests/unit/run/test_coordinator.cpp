#include <catch2/catch.hpp>

#include <numeric>

#include "run/coordinator.h"

using namespace cardsynth;

namespace {

// Runs the coordinator to the end with fixed true rates; returns images per rank and checks that
// every missing index is handed out exactly once.
std::vector<int64_t> drain(const std::vector<uint8_t>& done, const std::vector<double>& declared,
                           const std::vector<double>& true_rate, int64_t cap = 1000000) {
    Coordinator c(done, declared, 3.0, cap);
    std::vector<int> seen(done.size(), 0);
    std::vector<int64_t> total(declared.size(), 0);
    int rounds = 0;
    while (!c.finished()) {
        REQUIRE(++rounds < 10000);
        const auto ranges = c.next_round();
        REQUIRE(ranges.size() == declared.size());
        std::vector<int64_t> images(ranges.size());
        std::vector<double> busy(ranges.size());
        for (size_t r = 0; r < ranges.size(); ++r) {
            for (int64_t i = ranges[r].begin; i < ranges[r].end; ++i) ++seen[i];
            images[r] = ranges[r].size();
            busy[r] = images[r] / true_rate[r];
            total[r] += images[r];
        }
        c.report(images, busy);
    }
    for (size_t i = 0; i < done.size(); ++i) CHECK(seen[i] == (done[i] ? 0 : 1));
    return total;
}

}  // namespace

TEST_CASE("every missing index is handed out once, in contiguous ranges that skip done ones") {
    std::vector<uint8_t> done(500, 0);
    for (int i = 100; i < 180; ++i) done[i] = 1;
    done[3] = done[499] = 1;
    Coordinator c(done, {10, 10}, 3.0, 1000);
    CHECK(c.remaining() == 500 - 82);
    drain(done, {10, 10, 10}, {10, 10, 10});
}

TEST_CASE("a rank three times slower gets about a third as many images") {
    std::vector<uint8_t> done(6000, 0);
    const auto total = drain(done, {20, 20, 20}, {30, 30, 10});
    CHECK(total[2] == Approx(total[0] / 3.0).epsilon(0.15));
    CHECK(total[0] == Approx(total[1]).epsilon(0.1));
}

TEST_CASE("a small job is shared among the ranks, not all given to the first") {
    std::vector<uint8_t> done(23, 0);
    const auto total = drain(done, {500, 500, 500, 500}, {50, 50, 50, 50});
    for (int64_t t : total) CHECK(t >= 5);
    CHECK(std::accumulate(total.begin(), total.end(), int64_t{0}) == 23);
}

TEST_CASE("no rank gets more than the memory cap in one round") {
    std::vector<uint8_t> done(1000, 0);
    Coordinator c(done, {1000, 1000}, 3.0, 64);
    for (const IndexRange& r : c.next_round()) CHECK(r.size() <= 64);
}

TEST_CASE("what a rank did not make by the deadline is handed out again, once") {
    // Rank 1 makes only half of each range: its leftovers fragment the indices, and the
    // coordinator must still hand out each one until it is made, and finish.
    std::vector<uint8_t> done(2000, 0);
    done[700] = done[701] = 1;
    Coordinator c(done, {20, 20, 20}, 3.0, 1000000);
    std::vector<int> made(done.size(), 0);
    int rounds = 0;
    while (!c.finished()) {
        REQUIRE(++rounds < 10000);
        const auto ranges = c.next_round();
        CHECK(c.round_seconds() > 0);
        std::vector<int64_t> images(ranges.size());
        std::vector<double> busy(ranges.size(), 1.0);
        for (size_t r = 0; r < ranges.size(); ++r) {
            // Rank 1 makes only the first half of its range (at least one image).
            images[r] = r == 1
                            ? std::max<int64_t>(ranges[r].size() > 0 ? 1 : 0, ranges[r].size() / 2)
                            : ranges[r].size();
            for (int64_t i = ranges[r].begin; i < ranges[r].begin + images[r]; ++i) ++made[i];
        }
        c.report(images, busy);
    }
    for (size_t i = 0; i < done.size(); ++i) {
        INFO("index " << i);
        REQUIRE(made[i] == (done[i] ? 0 : 1));
    }
    CHECK(c.remaining() == 0);
}

TEST_CASE("ranges carry slack over the estimate; a tail round ends when a share runs out") {
    std::vector<uint8_t> done(100000, 0);
    Coordinator c(done, {10, 10}, 3.0, 1000000);
    c.next_round();
    c.report({10, 10}, {1.0, 1.0});  // 10 images/s each
    const auto ranges = c.next_round();
    CHECK(c.round_seconds() == Approx(3.0));
    CHECK(ranges[0].size() > 30);   // more than 3 s worth: the deadline ends the round
    CHECK(ranges[0].size() <= 90);  // but not unbounded

    std::vector<uint8_t> small(50, 0);
    Coordinator d(small, {10, 10}, 3.0, 1000000);
    const auto probe = d.next_round();
    d.report({5, 5}, {0.5, 0.5});      // 10 images/s each, the rest of each range given back
    const auto tail = d.next_round();  // what is left, shared
    REQUIRE(tail[0].size() > 0);
    REQUIRE(tail[1].size() > 0);
    CHECK(tail[0].size() + tail[1].size() <= 50 - 10);
    // When the first share should run out, but at most 1 s: the last round's write is not
    // hidden by rendering, so the last rounds are short.
    const double first_out = std::min(tail[0].size(), tail[1].size()) / 10.0;
    CHECK(d.round_seconds() == Approx(std::min(first_out, 1.0)));
    d.report({tail[0].size() / 2, tail[1].size()}, {0.5, 0.5});  // rank 0 at 15/s, rank 1 at 30/s
    const auto last = d.next_round();
    const double second_out = std::min(last[0].size() / 15.0, last[1].size() / 30.0);
    CHECK(d.round_seconds() == Approx(std::max(0.25, std::min(second_out, 1.0))));
    CHECK(probe[0].size() + probe[1].size() <= 50);
}

TEST_CASE("near the end a rank gets a run that holds its share when one exists") {
    // Pieces of 5, 40 and 12 missing images; two equal ranks want 28 or so each.
    std::vector<uint8_t> done(200, 1);
    for (int i = 10; i < 15; ++i) done[i] = 0;
    for (int i = 50; i < 90; ++i) done[i] = 0;
    for (int i = 120; i < 132; ++i) done[i] = 0;
    Coordinator c(done, {10, 10}, 3.0, 1000000);
    c.next_round();            // probe: 15 each
    c.report({0, 0}, {0, 0});  // nothing made (no rates either): everything comes back
    CHECK(c.remaining() == 57);
    const auto ranges = c.next_round();
    // 57 left, about 28 each: the first takes them from the run of 40; no run holds the
    // second's share then, so it gets the longest left (12), not the first (5).
    CHECK(ranges[0].begin == 50);
    CHECK(ranges[0].size() == 29);
    CHECK(ranges[1].begin == 120);
    CHECK(ranges[1].size() == 12);
}
