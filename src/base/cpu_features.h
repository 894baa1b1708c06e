// What the processor can run, asked once: the CPU kernels with an AVX2 form pick it here, and
// fall back to their portable form (the same bytes) elsewhere.
#pragma once

namespace cardsynth {

inline bool cpu_has_avx2() {
    static const bool has = __builtin_cpu_supports("avx2");
    return has;
}

}  // namespace cardsynth
