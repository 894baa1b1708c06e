#include <catch2/catch.hpp>

#include <numeric>

#include "cardsynth/coordinator.h"

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

TEST_CASE("ranges carry slack over the estimate, and the last round's deadline covers its shares") {
    std::vector<uint8_t> done(100000, 0);
    Coordinator c(done, {10, 10}, 3.0, 1000000);
    c.next_round();
    c.report({10, 10}, {1.0, 1.0});  // 10 images/s each
    const auto ranges = c.next_round();
    CHECK(c.round_seconds() == Approx(3.0));
    CHECK(ranges[0].size() > 30);  // more than 3 s worth: the deadline ends the round
    CHECK(ranges[0].size() <= 40);

    std::vector<uint8_t> small(50, 0);
    Coordinator d(small, {10, 10}, 3.0, 1000000);
    d.next_round();
    d.report({5, 5}, {0.5, 0.5});
    const auto tail = d.next_round();  // 40 left: 20 each at the measured rates
    CHECK(tail[0].size() == 20);
    CHECK(d.round_seconds() >= 20 / 10.0);  // the larger share at the measured rate
}
