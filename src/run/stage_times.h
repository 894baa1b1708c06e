// Clocks of a run: wall time for rounds and deadlines, CPU time for the per-stage breakdown (CPU
// seconds hold on a busy machine, where wall time would count other programs' turns).
#pragma once

#include <time.h>

#include <chrono>

namespace cardsynth {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

inline double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}
inline double process_cpu() {
    return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
}
inline double thread_cpu() {
    return cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
}

// CPU seconds a rank spent in each stage of the images it made.
struct StageTimes {
    double sample = 0, render = 0, labels = 0, encode = 0, write = 0;
};

}  // namespace cardsynth
