#include "catalog/alias_sampler.h"

#include <cmath>
#include <stdexcept>

namespace cardsynth {

// Vose's construction: columns are split into those under and over the mean, and each small
// column is topped up from one large one, so every column holds at most two outcomes.
AliasSampler::AliasSampler(const std::vector<double>& weights) {
    const size_t n = weights.size();
    if (n == 0) throw std::invalid_argument("alias sampler: no weights");
    if (n > static_cast<size_t>(INT32_MAX))
        throw std::invalid_argument("alias sampler: too many weights");
    double sum = 0.0;
    for (double w : weights) {
        if (!(w >= 0.0) || !std::isfinite(w))
            throw std::invalid_argument("alias sampler: weights must be finite and >= 0");
        sum += w;
    }
    if (!(sum > 0.0)) throw std::invalid_argument("alias sampler: weights sum to zero");

    p_.resize(n);
    prob_.assign(n, 1.0);
    alias_.resize(n);
    std::vector<double> scaled(n);
    std::vector<int32_t> small, large;
    small.reserve(n);
    large.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        p_[i] = weights[i] / sum;
        scaled[i] = p_[i] * static_cast<double>(n);
        alias_[i] = static_cast<int32_t>(i);
        (scaled[i] < 1.0 ? small : large).push_back(static_cast<int32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
        const int32_t s = small.back();
        small.pop_back();
        const int32_t l = large.back();
        prob_[s] = scaled[s];
        alias_[s] = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
    // Whatever is left differs from 1 only by rounding: those columns keep their own outcome.
    for (int32_t l : large) prob_[l] = 1.0;
    for (int32_t s : small) prob_[s] = 1.0;
}

int32_t AliasSampler::sample(double u_column, double u_coin) const {
    const size_t n = prob_.size();
    double scaled = u_column * static_cast<double>(n);
    size_t column = scaled <= 0.0 ? 0 : static_cast<size_t>(scaled);
    if (column > n - 1) column = n - 1;
    return u_coin < prob_[column] ? static_cast<int32_t>(column) : alias_[column];
}

}  // namespace cardsynth
