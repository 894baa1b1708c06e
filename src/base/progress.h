// Progress at rank 0: a bar with images/s and ETA on a terminal; one line every few seconds
// otherwise (SLURM logs).
#pragma once

#include <chrono>
#include <cstdint>

namespace cardsynth {

class Progress {
  public:
    // `total`: images this run makes; `quiet`: print nothing.
    Progress(int64_t total, bool quiet);
    void update(int64_t made);
    void finish();

  private:
    using Clock = std::chrono::steady_clock;
    int64_t total_;
    bool quiet_, tty_;
    Clock::time_point start_, last_print_;
    int64_t made_ = 0;
};

}  // namespace cardsynth
