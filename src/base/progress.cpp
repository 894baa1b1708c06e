#include "base/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace cardsynth {
namespace {
constexpr double kLogEverySeconds = 5.0;
}

Progress::Progress(int64_t total, bool quiet)
    // mpirun hands ranks a pseudo-terminal even when its own output goes to a file, so a batch
    // job (SLURM_JOB_ID) always gets log lines.
    : total_(total),
      quiet_(quiet),
      tty_(isatty(STDOUT_FILENO) != 0 && std::getenv("SLURM_JOB_ID") == nullptr),
      start_(Clock::now()),
      last_print_(start_) {}

void Progress::update(int64_t made) {
    made_ = made;
    if (quiet_) return;
    const auto now = Clock::now();
    const double since = std::chrono::duration<double>(now - last_print_).count();
    if (!tty_ && since < kLogEverySeconds && made_ < total_) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? made_ / elapsed : 0.0;
    const double eta = rate > 0 ? (total_ - made_) / rate : 0.0;
    const double frac = total_ > 0 ? static_cast<double>(made_) / total_ : 1.0;
    if (tty_) {
        constexpr int kWidth = 30;
        const int filled = static_cast<int>(frac * kWidth);
        char bar[kWidth + 1];
        for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
        bar[kWidth] = '\0';
        std::printf("\r[%s] %lld/%lld  %.1f images/s  ETA %.0f s   ", bar,
                    static_cast<long long>(made_), static_cast<long long>(total_), rate, eta);
    } else {
        std::printf("[progress] %lld/%lld images (%.0f%%), %.1f images/s, ETA %.0f s\n",
                    static_cast<long long>(made_), static_cast<long long>(total_), frac * 100, rate,
                    eta);
    }
    std::fflush(stdout);
}

void Progress::finish() {
    if (quiet_) return;
    if (tty_) {
        update(made_);
        std::printf("\n");
        std::fflush(stdout);
    }
}

}  // namespace cardsynth
