#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/parallel.h"
#include "loop_cases.h"

using namespace cardsynth;

TEST_CASE("parallel_for visits every index once") {
    for (int threads : {1, 4}) {
        std::vector<std::atomic<int>> visits(1000);
        parallel_for(1000, threads, [&](int i) { ++visits[static_cast<size_t>(i)]; });
        for (const auto& v : visits) REQUIRE(v.load() == 1);
    }
}

TEST_CASE("parallel_for of no indices does nothing") {
    bool called = false;
    parallel_for(0, 4, [&](int) { called = true; });
    REQUIRE_FALSE(called);
}

TEST_CASE("parallel_for rethrows an exception with its type") {
    try {
        parallel_for(64, 4, [](int i) {
            if (i == 17) throw InputError("card 'seventeen.png': truncated");
        });
        FAIL("nothing was thrown");
    } catch (const InputError& e) {
        REQUIRE(std::string(e.what()) == "card 'seventeen.png': truncated");
        REQUIRE(e.exit_code() == kExitUsage);
    }
}

TEST_CASE("parallel_for rethrows the exception of the lowest index") {
    // Index 3 is the slowest to fail, so the others have thrown first on most runs.
    for (int round = 0; round < 20; ++round) {
        try {
            parallel_for(200, 4, testing::fail_at_3_last);
            FAIL("nothing was thrown");
        } catch (const InputError& e) {
            REQUIRE(std::string(e.what()) == "index 3");
        }
    }
}

TEST_CASE("parallel_for runs every index below the first failure") {
    std::vector<std::atomic<int>> visits(100);
    REQUIRE_THROWS_AS(parallel_for(100, 4,
                                   [&](int i) {
                                       ++visits[static_cast<size_t>(i)];
                                       if (i == 60) throw std::logic_error("sixty");
                                   }),
                      std::logic_error);
    for (int i = 0; i <= 60; ++i) REQUIRE(visits[static_cast<size_t>(i)].load() == 1);
}

TEST_CASE("parallel_for uses OpenMP's default team below one thread") {
    std::vector<std::atomic<int>> visits(50);
    parallel_for(50, 0, [&](int i) { ++visits[static_cast<size_t>(i)]; });
    for (const auto& v : visits) REQUIRE(v.load() == 1);
}
