// One rank's images of one round, from scene to stored bytes: compose, render, labels, encode,
// into the round's buffers. Every image is a pure function of its index, so the round may stop at
// any image: at its deadline or at a stop signal it keeps the prefix of its range already made.
#pragma once

#include "catalog/catalog.h"
#include "config/config.h"
#include "dataset/dataset.h"
#include "render/render.h"
#include "run/coordinator.h"
#include "run/stage_times.h"
#include "scene/background.h"

namespace cardsynth {

// What a rank does in one round: its range, how long after it starts the round it must stop
// starting images, and the slow-down of the CARDSYNTH_TEST_SLOW_RANK test hook.
struct RoundPlan {
    IndexRange range;
    std::chrono::microseconds time{0};
    double slow = 1.0;
};

class ImageMaker {
  public:
    // All must outlive the maker; `threads` OpenMP threads share the work.
    ImageMaker(const Config& config, const Catalog& catalog, const Backgrounds& backgrounds,
               Renderer& renderer, int threads);

    // Makes the images of plan.range that it can before the deadline into `rd` (always at least
    // the first), which then holds that prefix; adds the CPU time of each stage to `times`.
    void make(const RoundPlan& plan, RoundData& rd, StageTimes& times);

  private:
    int64_t make_per_thread(const RoundPlan& plan, Clock::time_point deadline, RoundData& rd,
                            StageTimes& times);
    int64_t make_batched(const RoundPlan& plan, Clock::time_point deadline, RoundData& rd,
                         StageTimes& times);
    void reset(RoundData& rd, IndexRange range) const;
    void truncate(RoundData& rd, int64_t made) const;
    void keep_labels(const ImageLabels& labels, const Frame& frame, int64_t j, RoundData& rd) const;
    // `jpeg_quality`: what storage jpeg encodes at (stored_jpeg_quality).
    void keep_pixels(const Frame& frame, int jpeg_quality, int64_t j, RoundData& rd) const;

    const Config& config_;
    const Catalog& catalog_;
    const Backgrounds& backgrounds_;
    Renderer& renderer_;
    int threads_;
    size_t pixels_;  // per frame
};

// The CARDSYNTH_TEST_SLOW_RANK=R:F test hook: rank R takes F times as long per image; 1 for the
// other ranks and when unset.
double slow_factor(int rank);

}  // namespace cardsynth
