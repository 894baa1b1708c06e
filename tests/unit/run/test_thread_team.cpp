#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "../base/loop_cases.h"
#include "base/error.h"
#include "run/thread_team.h"

using namespace cardsynth;

TEST_CASE("a thread team visits every index once, loop after loop, on its members") {
    for (int size : {1, 3}) {
        ThreadTeam team(size);
        REQUIRE(team.size() == size);
        for (int loop = 0; loop < 50; ++loop) {
            std::vector<std::atomic<int>> visits(97);
            std::vector<std::atomic<int>> by_member(static_cast<size_t>(size));
            team.for_each(97, [&](int i, int member) {
                ++visits[static_cast<size_t>(i)];
                ++by_member[static_cast<size_t>(member)];
            });
            for (const auto& v : visits) REQUIRE(v.load() == 1);
            int total = 0;
            for (const auto& m : by_member) total += m.load();
            REQUIRE(total == 97);
        }
        bool called = false;
        team.for_each(0, [&](int, int) { called = true; });
        REQUIRE_FALSE(called);
    }
}

TEST_CASE("a thread team's members run at once") {
    // Each of three indices waits until all three have started: that ends only if three
    // members hold them together.
    ThreadTeam team(3);
    std::atomic<int> started{0};
    std::set<std::thread::id> threads;
    std::mutex m;
    team.for_each(3, [&](int, int) {
        {
            const std::lock_guard<std::mutex> lock(m);
            threads.insert(std::this_thread::get_id());
        }
        ++started;
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (started.load() < 3 && std::chrono::steady_clock::now() < give_up)
            std::this_thread::yield();
    });
    REQUIRE(started.load() == 3);
    REQUIRE(threads.size() == 3);
}

TEST_CASE("a thread team rethrows the exception of the lowest index with its type") {
    ThreadTeam team(4);
    for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> visits(200);
        try {
            team.for_each(200, [&](int i, int) {
                ++visits[static_cast<size_t>(i)];
                testing::fail_at_3_last(i);
            });
            FAIL("nothing was thrown");
        } catch (const InputError& e) {
            REQUIRE(std::string(e.what()) == "index 3");
            REQUIRE(e.exit_code() == kExitUsage);
        }
        for (int i = 0; i <= 3; ++i) REQUIRE(visits[static_cast<size_t>(i)].load() == 1);
    }
    // The team still works after a loop that threw.
    std::atomic<int> n{0};
    team.for_each(10, [&](int, int) { ++n; });
    REQUIRE(n.load() == 10);
}
