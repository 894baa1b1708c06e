// The geometry of export labels: a card's quad clipped to the frame (YOLO OBB), the visible region
// of every card as a slot map (from /masks, or painted from the quads when the file has none), and
// the outline of one card's region (YOLO seg, COCO polygons). Coordinates are the file's
// continuous pixel coordinates: pixel (x, y) covers [x, x+1) x [y, y+1).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "render/labels.h"

namespace cardsynth {

using Polygon = std::vector<cv::Point2d>;

// The part of `polygon` (convex, in order) inside [0, width] x [0, height] (Sutherland-Hodgman),
// without repeated points; its vertices keep the polygon's order, so an unclipped quad comes back
// as it went in. Empty when nothing of it is inside.
Polygon clip_to_frame(const Polygon& polygon, int width, int height);

// The card's oriented box for YOLO OBB: its quad clipped to the frame when that leaves four
// points, else the minimum-area rotated rectangle of the clipped quad with its corners moved into
// the frame. Empty when no part of the card is inside the frame.
Polygon oriented_box(const CardLabel& card, int width, int height);

// Paints the quads of `cards` in painter's order (later cards over earlier) into `slots`
// (height x width, CV_8U): slot k's pixels, those whose centre lies inside its quad, hold k + 1,
// the rest 0. The stand-in for /masks in a file without them.
void paint_slots(const std::vector<CardLabel>& cards, int width, int height, cv::Mat& slots);

// The outline of the pixels equal to `value` in `slots` within `roi` (the card's visible box): the
// largest external contour, as pixel centres. Fewer than three points when the region is thinner
// than a pixel or empty.
Polygon region_outline(const cv::Mat& slots, uint8_t value, const cv::Rect& roi);

// The pixels of the frame that the box x0, y0, x1, y1 touches. For a card's visible box, every
// pixel of the card's visible region; a region painted from the quads is cut to it too, since the
// quad's edge pixels may not be seen (rounded card corners).
cv::Rect box_roi(const std::array<float, 4>& box, int width, int height);

}  // namespace cardsynth
