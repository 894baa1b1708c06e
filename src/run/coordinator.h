// The rank-0 coordinator's arithmetic: which indices are still missing, and how many of them each
// rank gets in the next round, sized to its measured throughput (its declared capacity before it
// has one) so that a round lasts a few seconds on every rank. A round also has a deadline: a
// rank stops starting images when it passes, makes a prefix of its range, and the coordinator
// takes the rest back, so a rate that was overestimated (a cold cache, a busy node) costs at
// most one image's time instead of idling every other rank. Ranges carry slack over the estimate
// so that an underestimated rank (its cache warming up) does not idle either. Pure: no MPI in here,
// so the whole policy is unit-tested; generate.cpp broadcasts what it decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cardsynth {

struct IndexRange {
    int64_t begin = 0, end = 0;
    int64_t size() const { return end - begin; }
};

class Coordinator {
  public:
    // `done`: the dataset's /done bitmap; `capacity`: each rank's declared images/s;
    // `max_per_round`: a memory cap on one rank's images in a round.
    Coordinator(const std::vector<uint8_t>& done, std::vector<double> capacity,
                double round_seconds, int64_t max_per_round);

    bool finished() const { return remaining_ == 0; }
    int64_t remaining() const { return remaining_; }
    // One contiguous range of missing indices per rank (empty when none is left for it).
    std::vector<IndexRange> next_round();
    // The deadline of the round next_round() last planned, in seconds from its start.
    double round_seconds() const { return last_seconds_; }
    // What each rank did in the last round: images made (a prefix of its range) and seconds
    // busy. The rest of each range is handed out again in later rounds.
    void report(const std::vector<int64_t>& images, const std::vector<double>& busy_seconds);
    double throughput(int rank) const { return rate_[rank]; }

  private:
    IndexRange take(int64_t want);
    void give_back(IndexRange r);

    // Missing indices not handed out, as disjoint runs in index order (runs of zeros of /done,
    // and what rounds gave back).
    std::vector<IndexRange> pool_;
    std::vector<IndexRange> last_;  // the ranges of the last round
    double last_seconds_ = 0;
    int64_t remaining_ = 0;
    std::vector<double> rate_;
    bool measured_ = false;
    double round_seconds_;
    int64_t max_per_round_;
};

}  // namespace cardsynth
