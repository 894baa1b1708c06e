// Train/val/test splits of an exported dataset. Image i's split is a pure function of the file's
// seed and i, so that a file grown with more images keeps every old image in its split, and so
// that another implementation (the Python package) can compute the same split bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cardsynth {

struct SplitPart {
    std::string name;  // train, val or test
    double fraction = 0;
};

// The split names, in command-line order, and their fractions.
using SplitSpec = std::vector<SplitPart>;

// SplitMix64's output function of x + golden gamma, with uint64 wrap-around.
uint64_t splitmix64(uint64_t x);

// u = (splitmix64(seed ^ splitmix64(i)) >> 11) * 2^-53, in [0, 1).
double split_draw(uint64_t seed, uint64_t i);

// Index into `spec` of the first part whose cumulative fraction exceeds split_draw(seed, i); the
// last part takes any rounding remainder.
int split_of(const SplitSpec& spec, uint64_t seed, uint64_t i);

// Parses "train=0.9,val=0.1[,test=...]": names from {train, val, test}, each at most once,
// fractions positive and summing to 1 within 1e-6. Throws ConfigError naming `key` and the value.
SplitSpec parse_split(const std::string& text, const std::string& key);

}  // namespace cardsynth
