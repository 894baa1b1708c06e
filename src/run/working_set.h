// What one rank holds in memory while it renders, estimated from the configuration before any
// of it is allocated, so that a frame too large for the machine is refused with numbers instead of
// failing inside OpenCV after minutes of loading.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"

namespace cardsynth {

// One rank holds at most this many bytes of images between writes (at least 4 images).
constexpr int64_t kRoundBytesBudget = 256ll << 20;

struct WorkingSet {
    int64_t frames = 0;    // per thread: the RGB frame, its id buffer and blur scratch
    int64_t rounds = 0;    // the round being made and the round being written
    int64_t cache = 0;     // the texture cache (cache_mb, or what the built-in deck fills)
    int64_t playmats = 0;  // background images at frame size, at each scale level
    int64_t total() const { return frames + rounds + cache + playmats; }
};

WorkingSet estimate_working_set(const Config& config, int threads);

// Throws ConfigError naming both numbers and the keys to lower when `ranks_on_node` ranks of
// `working_set` each need more than `available_bytes` (0: unknown, nothing is checked). When
// `source` is MemAvailable, which moves with the neighbours' page cache and builds, a run needing
// under 1 GiB is not refused: only a hard limit (a cgroup) refuses it.
void check_working_set(const WorkingSet& working_set, const Config& config, int threads,
                       int ranks_on_node, int64_t available_bytes, const std::string& source);

}  // namespace cardsynth
