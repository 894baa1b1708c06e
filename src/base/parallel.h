// The one way to run a loop on OpenMP threads: an exception must not leave an OpenMP region
// (that is std::terminate), so each one is caught in the thread that threw it, carried with its
// type by std::exception_ptr, and the first one (lowest index) is rethrown on the calling thread
// once the loop is over. An InputError found by a worker thread therefore still exits 2.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cardsynth {

// The exceptions of one loop, by index: after an exception at index k, indices above k not yet
// started are skipped; every index below the lowest failing one still runs, so the exception
// rethrown, that of the lowest index, does not depend on timing.
class LoopErrors {
  public:
    explicit LoopErrors(int n) : errors_(static_cast<size_t>(std::max(n, 0))), first_(n) {}
    bool skip(int i) const { return i > first_.load(std::memory_order_relaxed); }
    // Runs body(i), keeping what it throws.
    template <typename Body>
    void run(int i, Body&& body) {
        if (skip(i)) return;
        try {
            body(i);
        } catch (...) {
            errors_[static_cast<size_t>(i)] = std::current_exception();
            int first = first_.load();
            while (i < first && !first_.compare_exchange_weak(first, i)) {
            }
        }
    }
    // Once the loop is over, on the calling thread.
    void rethrow_first() const {
        for (const std::exception_ptr& error : errors_)
            if (error) std::rethrow_exception(error);
    }

  private:
    std::vector<std::exception_ptr> errors_;
    std::atomic<int> first_;
};

// Calls body(i) for i in [0, n) on up to `threads` OpenMP threads (below 1: OpenMP's default,
// as set by omp_set_num_threads or OMP_NUM_THREADS), one index at a time (schedule(dynamic, 1)),
// with LoopErrors' rules for exceptions.
template <typename Body>
void parallel_for(int n, int threads, Body&& body) {
    LoopErrors errors(n);
#ifdef _OPENMP
    const int team = threads > 0 ? threads : omp_get_max_threads();
#else
    const int team = 1;
    (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (int i = 0; i < n; ++i) errors.run(i, body);
    (void)team;
    errors.rethrow_first();
}

}  // namespace cardsynth
