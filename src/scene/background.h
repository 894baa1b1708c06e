// Playmat backgrounds: images from a directory or built-in procedural playmats (several distinct
// textures). Each is kept pre-scaled at a few levels that cover the frame, so that a frame's
// background is an integer crop, not a resample per image.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "config/config.h"

namespace cardsynth {

constexpr int kBackgroundLevels = 3;  // scale factors 1, 1.25, 1.5 of the covering size
constexpr int kBuiltinPlaymats = 12;  // distinct textures; smaller frames get more instances

class Backgrounds {
  public:
    // Loads every image of config.dir (sorted; jpg, png, webp; smaller ones scaled up) or makes
    // the built-in playmats, for frames of `frame`. Throws InputError naming the directory or
    // file when it cannot.
    static Backgrounds load(const BackgroundsConfig& config, const FrameConfig& frame);

    size_t size() const { return levels_.size(); }
    // RGB8 (R, G, B) image of background b at level l; each level covers the frame.
    const cv::Mat& level(int b, int l) const { return levels_[b][l]; }
    const std::string& name(int b) const { return names_[b]; }

  private:
    std::vector<std::vector<cv::Mat>> levels_;
    std::vector<std::string> names_;
};

// Built-in playmat `id` (0..kBuiltinPlaymats-1 distinct textures; larger ids vary colours and
// layout) as RGB8, with about `distractors` objects that are not cards per frame-sized area
// (backgrounds.distractors), made light when its own draw falls under `light_share`
// (backgrounds.light_share).
cv::Mat render_builtin_playmat(int id, int width, int height, double distractors = 0.0,
                               double light_share = 0.0);
// How many built-in playmats a run loads: kBuiltinPlaymats for frames of 1280x720 or more, up to
// four times as many for smaller frames (as many pixels in all, more variety).
int builtin_playmat_count(const FrameConfig& frame);

}  // namespace cardsynth
