// Things on a table that are not cards: dice, tokens, coins, deck boxes, sleeve stacks, phones,
// sheets of paper with text and hand-like blobs. Painted into the built-in playmats, so they lie
// under every card, and over the cards when scene.occluders asks for it; never labelled: a
// detector learns that a crisp small object, a rectangle or a hand is not a card by itself.
#pragma once

#include <opencv2/core.hpp>

#include "base/rng.h"

namespace cardsynth {

// Paints about `per_frame` objects per frame-sized area into `img` (CV_32FC3, R G B in 0..255,
// the playmat at its working resolution, which covers one frame), each with a soft shadow. Sizes
// follow the image height. Draws nothing and no numbers from `rng` when per_frame is 0.
void paint_distractors(Rng& rng, cv::Mat& img, double per_frame);

// One object drawn for a frame of width x height, as an object over the cards is drawn
// (render/occluders): where it lies (`area`, inside the frame; empty when it falls outside),
// its colour times its coverage (CV_32FC3, premultiplied) and its coverage (CV_32F, 0..1).
struct ObjectPatch {
    cv::Rect area;
    cv::Mat premultiplied, coverage;
};
ObjectPatch draw_object(Rng& rng, int width, int height);

}  // namespace cardsynth
