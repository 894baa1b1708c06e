#include "run/coordinator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cardsynth {
namespace {
// Ranges are this much longer than the estimate says a round takes (rates can triple from round
// to round while caches warm up); the deadline ends them.
constexpr double kSlack = 3.0;
// The shortest deadline: a last round of a few images still gets time to make them.
constexpr double kMinRoundSeconds = 0.25;
// The longest deadline once the end is in sight: the last round's write is the one that no
// rendering hides, so the last rounds are short.
constexpr double kTailRoundSeconds = 1.0;
}  // namespace

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
        pool_.push_back({i, j});
        remaining_ += j - i;
        i = j;
    }
    for (double& r : rate_) r = std::max(r, 1e-3);
}

// Up to `want` contiguous missing indices: the start of the first run that holds them all, else
// all of the longest run (runs are fragments then, near the end of the job).
IndexRange Coordinator::take(int64_t want) {
    auto it = std::find_if(pool_.begin(), pool_.end(),
                           [want](const IndexRange& r) { return r.size() >= want; });
    if (it == pool_.end())
        it = std::max_element(
            pool_.begin(), pool_.end(),
            [](const IndexRange& a, const IndexRange& b) { return a.size() < b.size(); });
    const IndexRange out{it->begin, it->begin + std::min(want, it->size())};
    it->begin = out.end;
    if (it->size() == 0) pool_.erase(it);
    remaining_ -= out.size();
    return out;
}

// Back into the pool in index order, joined to its neighbours.
void Coordinator::give_back(IndexRange r) {
    if (r.size() <= 0) return;
    remaining_ += r.size();
    auto it = std::lower_bound(
        pool_.begin(), pool_.end(), r,
        [](const IndexRange& a, const IndexRange& b) { return a.begin < b.begin; });
    it = pool_.insert(it, r);
    if (it + 1 != pool_.end() && it->end == (it + 1)->begin) {
        it->end = (it + 1)->end;
        pool_.erase(it + 1);
    }
    if (it != pool_.begin() && (it - 1)->end == it->begin) {
        (it - 1)->end = it->end;
        pool_.erase(it);
    }
}

std::vector<IndexRange> Coordinator::next_round() {
    // The first round is short: declared capacities are guesses, measured rates are not. Once
    // what is left would take little more than a round, rounds are short too: the last round's
    // write is the one that no rendering hides.
    const size_t ranks = rate_.size();
    const double total_rate = std::accumulate(rate_.begin(), rate_.end(), 0.0);
    double seconds = measured_ ? round_seconds_ : std::min(1.0, round_seconds_);
    if (measured_ && remaining_ <= total_rate * round_seconds_ * 1.5)
        seconds = std::min(seconds, kTailRoundSeconds);
    std::vector<IndexRange> out(ranks);
    std::vector<int64_t> wants(ranks);
    int64_t demand = 0;
    for (size_t r = 0; r < ranks; ++r) {
        wants[r] = std::min(max_per_round_,
                            std::max<int64_t>(1, std::llround(rate_[r] * seconds * kSlack)));
        demand += wants[r];
    }
    last_seconds_ = seconds;
    // Near the end, what is left is shared in proportion to throughput, so that every rank
    // finishes at about the same time instead of the first ones taking it all.
    const bool tail = demand > remaining_;
    if (tail) {
        int64_t given = 0;
        for (size_t r = 0; r < ranks; ++r) {
            wants[r] = static_cast<int64_t>(std::floor(remaining_ * rate_[r] / total_rate));
            given += wants[r];
        }
        for (size_t r = 0; given < remaining_; r = (r + 1) % ranks) ++wants[r], ++given;
    }
    // The largest wants first, so that they get the long runs.
    std::vector<size_t> order(ranks);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return wants[a] > wants[b]; });
    for (size_t r : order)
        if (wants[r] > 0 && remaining_ > 0) out[r] = take(wants[r]);
    // In the tail the round ends when the first rank should run out of its range (the runs left
    // may be too short for some shares): everyone stops together and the rest is shared again,
    // rather than some ranks idling while one finishes a long range.
    if (tail) {
        last_seconds_ = 1e30;
        for (size_t r = 0; r < ranks; ++r)
            if (out[r].size() > 0)
                last_seconds_ = std::min(last_seconds_, out[r].size() / rate_[r]);
        last_seconds_ = std::max(kMinRoundSeconds, std::min(last_seconds_, seconds));
    }
    last_ = out;
    return out;
}

void Coordinator::report(const std::vector<int64_t>& images, const std::vector<double>& busy) {
    for (size_t r = 0; r < rate_.size(); ++r) {
        const IndexRange given = r < last_.size() ? last_[r] : IndexRange{};
        const int64_t made = std::max<int64_t>(0, std::min(images[r], given.size()));
        give_back({given.begin + made, given.end});
        if (images[r] <= 0 || busy[r] <= 0) continue;
        // The last round's rate alone: rates climb while texture caches warm up, and a blend
        // with the past would keep handing the fast ranks too little.
        rate_[r] = images[r] / busy[r];
    }
    last_.clear();
    measured_ = true;
}

}  // namespace cardsynth
