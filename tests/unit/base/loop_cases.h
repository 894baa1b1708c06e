// A loop body for the rule every loop with parallel_for's exceptions keeps (base/parallel.h's
// LoopErrors): the exception rethrown is that of the lowest index, whatever the timing.
#pragma once

#include <stdexcept>
#include <string>

#include "base/error.h"

namespace cardsynth::testing {

// Index 3 throws an InputError, and is the slowest to do so, so that on most runs the indices
// that end in 9 have thrown their runtime_error first.
inline void fail_at_3_last(int i) {
    if (i == 3) {
        volatile double x = 0;
        for (int k = 0; k < 200000; ++k) x = x + k;
        throw InputError("index 3");
    }
    if (i % 10 == 9) throw std::runtime_error("index " + std::to_string(i));
}

}  // namespace cardsynth::testing
