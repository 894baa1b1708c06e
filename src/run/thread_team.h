// Threads that sleep between loops. An OpenMP team spins for a while at the end of every loop
// and between loops; the command line does not mind (its rounds keep the threads busy), but a
// Generator renders in calls between other work, and a training process sharing the cores
// loses what the spinning burns: at W1, 8 images a call on 2 threads, a quarter of a CPU ms per
// image.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/parallel.h"

namespace cardsynth {

class ThreadTeam {
  public:
    // `size` members: the thread that calls for_each and size - 1 threads of the team's own.
    explicit ThreadTeam(int size);
    ~ThreadTeam();
    ThreadTeam(const ThreadTeam&) = delete;
    ThreadTeam& operator=(const ThreadTeam&) = delete;

    int size() const { return static_cast<int>(helpers_.size()) + 1; }
    // Calls body(i, member) for i in [0, n), one index at a time, on the members (member 0 is
    // the caller), with parallel_for's rules for exceptions (base/parallel.h).
    template <typename Body>
    void for_each(int n, Body&& body) {
        LoopErrors errors(n);
        std::atomic<int> next{0};
        run([&](int member) {
            for (int i = next++; i < n; i = next++) errors.run(i, [&](int k) { body(k, member); });
        });
        errors.rethrow_first();
    }

  private:
    // Runs job(member) on every member and returns when all are done.
    void run(const std::function<void(int)>& job);
    void helper(int member);

    std::mutex mutex_;
    std::condition_variable start_, done_;
    const std::function<void(int)>* job_ = nullptr;
    uint64_t generation_ = 0;
    int busy_ = 0;
    bool quit_ = false;
    std::vector<std::thread> helpers_;
};

}  // namespace cardsynth
