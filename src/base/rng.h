// The counter-based random generator. Every random number of image i is a pure function of
// (seed, i, stream, draw number), so image i is the same whichever rank, thread or restart
// makes it. The uniform and normal helpers are our own: std::*_distribution output differs
// between standard libraries.
#pragma once

#include <cmath>
#include <cstdint>

namespace cardsynth {

constexpr uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

class Rng {
  public:
    // `stream` separates independent uses for the same image (scene layout, effects, noise).
    Rng(uint64_t seed, uint64_t index, uint64_t stream = 0)
        : key_(splitmix64(splitmix64(splitmix64(seed) ^ index) ^
                          (stream * 0xD1B54A32D192ED03ULL))) {}

    uint64_t next_u64() { return splitmix64(key_ ^ (counter_++ * 0x9E3779B97F4A7C15ULL)); }

    // Uniform in [0, 1), 53 bits.
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    // Uniform in [lo, hi); lo when lo == hi.
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [lo, hi], both inclusive.
    int64_t uniform_int(int64_t lo, int64_t hi) {
        const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
        return lo + static_cast<int64_t>(span == 0 ? next_u64() : next_u64() % span);
    }
    bool bernoulli(double p) { return uniform() < p; }
    // Standard normal by Box-Muller; one draw pair per call keeps the stream simple.
    double normal() {
        const double u1 = 1.0 - uniform();  // (0, 1]
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    double normal(double mean, double sigma) { return mean + sigma * normal(); }

    uint64_t draws() const { return counter_; }

  private:
    uint64_t key_;
    uint64_t counter_ = 0;
};

}  // namespace cardsynth
