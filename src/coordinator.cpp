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

namespace {
// Ranges are this much longer than the estimate says a round takes; the deadline ends them.
constexpr double kSlack = 1.25;
// The shortest deadline: a last round of a few images still gets time to make them.
constexpr double kMinRoundSeconds = 0.25;
}  // namespace

// Up to `want` contiguous missing indices: from a piece taken back from a round when it is long
// enough, else from the untouched runs in index order, else from a shorter piece (the end of the
// job), so that a rank is not handed a sliver while long ranges remain.
IndexRange Coordinator::take(int64_t want) {
    const int64_t untouched = remaining_ - returned_total_;
    if (!returned_.empty() && (returned_.front().size() >= want || untouched == 0)) {
        IndexRange& piece = returned_.front();
        const IndexRange out{piece.begin, piece.begin + std::min(want, piece.size())};
        piece.begin = out.end;
        if (piece.size() == 0) returned_.erase(returned_.begin());
        remaining_ -= out.size();
        returned_total_ -= out.size();
        return out;
    }
    const IndexRange& run = missing_[cursor_run_];
    const int64_t n = std::min(want, run.end - cursor_);
    const IndexRange out{cursor_, cursor_ + n};
    cursor_ += n;
    remaining_ -= n;
    if (cursor_ == run.end && cursor_run_ + 1 < missing_.size()) {
        ++cursor_run_;
        cursor_ = missing_[cursor_run_].begin;
    }
    return out;
}

std::vector<IndexRange> Coordinator::next_round() {
    // The first round is short: declared capacities are guesses, measured rates are not.
    const double seconds = measured_ ? round_seconds_ : std::min(1.0, round_seconds_);
    std::vector<IndexRange> out(rate_.size());
    std::vector<int64_t> wants(rate_.size());
    int64_t demand = 0;
    for (size_t r = 0; r < rate_.size(); ++r) {
        wants[r] = std::min(max_per_round_,
                            std::max<int64_t>(1, std::llround(rate_[r] * seconds * kSlack)));
        demand += wants[r];
    }
    // Near the end, what is left is shared in proportion to throughput, so that every rank
    // finishes at about the same time instead of the first ones taking it all; the deadline
    // then allows for the slowest share, plus the slack.
    last_seconds_ = seconds;
    if (demand > remaining_) {
        double total_rate = 0;
        for (double r : rate_) total_rate += r;
        int64_t given = 0;
        for (size_t r = 0; r < rate_.size(); ++r) {
            wants[r] = static_cast<int64_t>(std::floor(remaining_ * rate_[r] / total_rate));
            given += wants[r];
        }
        for (size_t r = 0; given < remaining_; r = (r + 1) % rate_.size()) ++wants[r], ++given;
        last_seconds_ = kMinRoundSeconds;
        for (size_t r = 0; r < rate_.size(); ++r)
            last_seconds_ = std::max(last_seconds_, wants[r] / rate_[r] * kSlack);
    }
    for (size_t r = 0; r < rate_.size() && remaining_ > 0; ++r)
        if (wants[r] > 0) out[r] = take(wants[r]);
    last_ = out;
    return out;
}

void Coordinator::report(const std::vector<int64_t>& images, const std::vector<double>& busy) {
    for (size_t r = 0; r < rate_.size(); ++r) {
        const IndexRange& given = r < last_.size() ? last_[r] : IndexRange{};
        const int64_t made = std::max<int64_t>(0, std::min(images[r], given.size()));
        if (made < given.size()) {
            returned_.push_back({given.begin + made, given.end});
            remaining_ += given.size() - made;
            returned_total_ += given.size() - made;
        }
        if (images[r] <= 0 || busy[r] <= 0) continue;
        // The last round's rate alone: rates climb while texture caches warm up, and a blend
        // with the past would keep handing the fast ranks too little.
        rate_[r] = images[r] / busy[r];
    }
    last_.clear();
    measured_ = true;
}

}  // namespace cardsynth
