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

// Calls body(i) for i in [0, n) on up to `threads` OpenMP threads (below 1: OpenMP's default,
// as set by omp_set_num_threads or OMP_NUM_THREADS), one index at a time (schedule(dynamic, 1)).
// After an exception at index k, indices above k not yet started are skipped; every index below
// the lowest failing one still runs, so the exception rethrown, that of the lowest index, does
// not depend on timing.
template <typename Body>
void parallel_for(int n, int threads, Body&& body) {
    std::vector<std::exception_ptr> errors(static_cast<size_t>(std::max(n, 0)));
    std::atomic<int> first_failed{n};
#ifdef _OPENMP
    const int team = threads > 0 ? threads : omp_get_max_threads();
#else
    const int team = 1;
    (void)threads;
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (int i = 0; i < n; ++i) {
        if (i > first_failed.load(std::memory_order_relaxed)) continue;
        try {
            body(i);
        } catch (...) {
            errors[static_cast<size_t>(i)] = std::current_exception();
            int first = first_failed.load();
            while (i < first && !first_failed.compare_exchange_weak(first, i)) {
            }
        }
    }
    (void)team;
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
}

}  // namespace cardsynth
