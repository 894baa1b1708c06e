#include "cardsynth/coordinator.h"

#include <algorithm>
#include <cmath>

namespace cardsynth {

Coordinator::Coordinator(const std::vector<uint8_t>& done, std::vector<double> capacity,
                         double round_seconds, int64_t max_per_round)
    : rate_(std::move(capacity)),
      round_seconds_(round_seconds),
      max_per_round_(std::max<int64_t>(1, max_per_round)) {
    const int64_t n = static_cast<int64_t>(done.size());
    for (int64_t i = 0; i < n;) {
        if (done[i]) {
            ++i;
            continue;
        }
        int64_t j = i;
        while (j < n && !done[j]) ++j;
        missing_.push_back({i, j});
        remaining_ += j - i;
        i = j;
    }
    if (!missing_.empty()) cursor_ = missing_[0].begin;
    for (double& r : rate_) r = std::max(r, 1e-3);
}

std::vector<IndexRange> Coordinator::next_round() {
    // The first round is short: declared capacities are guesses, measured rates are not.
    const double seconds = measured_ ? round_seconds_ : std::min(1.0, round_seconds_);
    std::vector<IndexRange> out(rate_.size());
    std::vector<int64_t> wants(rate_.size());
    int64_t demand = 0;
    for (size_t r = 0; r < rate_.size(); ++r) {
        wants[r] = std::min(max_per_round_, std::max<int64_t>(1, std::llround(rate_[r] * seconds)));
        demand += wants[r];
    }
    // Near the end, what is left is shared in proportion to throughput, so that every rank
    // finishes at about the same time instead of the first ones taking it all.
    if (demand > remaining_) {
        double total_rate = 0;
        for (double r : rate_) total_rate += r;
        int64_t given = 0;
        for (size_t r = 0; r < rate_.size(); ++r) {
            wants[r] = static_cast<int64_t>(std::floor(remaining_ * rate_[r] / total_rate));
            given += wants[r];
        }
        for (size_t r = 0; given < remaining_; r = (r + 1) % rate_.size()) ++wants[r], ++given;
    }
    for (size_t r = 0; r < rate_.size() && remaining_ > 0; ++r) {
        const int64_t want = wants[r];
        if (want == 0) continue;
        const IndexRange& run = missing_[cursor_run_];
        const int64_t take = std::min(want, run.end - cursor_);
        out[r] = {cursor_, cursor_ + take};
        cursor_ += take;
        remaining_ -= take;
        if (cursor_ == run.end && cursor_run_ + 1 < missing_.size()) {
            ++cursor_run_;
            cursor_ = missing_[cursor_run_].begin;
        }
    }
    return out;
}

void Coordinator::report(const std::vector<int64_t>& images, const std::vector<double>& busy) {
    for (size_t r = 0; r < rate_.size(); ++r) {
        if (images[r] <= 0 || busy[r] <= 0) continue;
        // The last round's rate alone: rates climb while texture caches warm up, and a blend
        // with the past would keep handing the fast ranks too little.
        rate_[r] = images[r] / busy[r];
    }
    measured_ = true;
}

}  // namespace cardsynth
