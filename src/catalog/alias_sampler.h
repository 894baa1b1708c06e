// Walker's alias method: O(n) construction, O(1) draws from a discrete distribution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cardsynth {

class AliasSampler {
  public:
    AliasSampler() = default;
    // Weights need not sum to 1; all must be >= 0 with a positive sum (else std::invalid_argument).
    explicit AliasSampler(const std::vector<double>& weights);

    // Two uniforms in [0, 1): one picks the column, one decides between it and its alias.
    int32_t sample(double u_column, double u_coin) const;
    size_t size() const { return prob_.size(); }
    // The normalised probability of outcome i (for reports and tests).
    double probability(size_t i) const { return p_[i]; }

  private:
    std::vector<double> prob_;
    std::vector<int32_t> alias_;
    std::vector<double> p_;
};

}  // namespace cardsynth
