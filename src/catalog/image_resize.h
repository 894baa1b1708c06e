// Image scaling for card levels and playmat levels: a shrink by an integer factor averages
// boxes (OpenCV's fast area path), then bilinear covers the rest, a factor below 2 at which
// every source pixel still counts. Close to an area filter at an eighth of its cost, which
// matters at start-up (playmats) and whenever a card is decoded.
#pragma once

#include <opencv2/core.hpp>

namespace cardsynth {

// Scales `src` to `size` into `dst`; `dst` may be a view (a region of a larger image) of that
// size and type, which is written in place.
void resize_image(const cv::Mat& src, cv::Mat& dst, cv::Size size);

}  // namespace cardsynth
