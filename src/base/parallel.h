// The one way to run a loop on OpenMP threads: an exception must not leave an OpenMP region
// (that is std::terminate), so each one is caught in the thread that threw it, carried with its
// type by std::exception_ptr, and the first one (lowest index) is rethrown on the calling thread
// once the loop is over. An InputError found by a worker thread therefore still exits 2.
#pragma once

#include <algorithm>
#include <exception>
#include <vector>

namespace cardsynth {

// Calls body(i) for i in [0, n) on up to `threads` OpenMP threads, one index at a time
// (schedule(dynamic, 1)). After an exception, the indices not yet started are skipped. Rethrows
// the exception of the lowest index that threw, so the error reported does not depend on timing.
template <typename Body>
void parallel_for(int n, int threads, Body&& body) {
    std::vector<std::exception_ptr> errors(static_cast<size_t>(std::max(n, 0)));
    bool failed = false;
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(threads, 1))
    for (int i = 0; i < n; ++i) {
        bool skip;
#pragma omp atomic read
        skip = failed;
        if (skip) continue;
        try {
            body(i);
        } catch (...) {
            errors[static_cast<size_t>(i)] = std::current_exception();
#pragma omp atomic write
            failed = true;
        }
    }
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
}

}  // namespace cardsynth
