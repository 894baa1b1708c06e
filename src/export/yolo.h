// Label lines as Ultralytics reads them: a class id, then values normalised to the frame. Every
// value is clamped into [0, 1] (Ultralytics drops a whole image with a value outside
// [-0.01, 1.01]) and written with 6 decimals; each line ends with a newline.
#pragma once

#include <array>
#include <string>

#include "export/geometry.h"
#include "render/labels.h"

namespace cardsynth {

// " v", v clamped into [0, 1], 6 decimals.
void append_unit(std::string& line, double v);

// Detect: `class cx cy w h` of the box x0, y0, x1, y1 (pixels).
std::string yolo_box_line(int cls, const std::array<float, 4>& box, int width, int height);

// OBB and seg: `class x1 y1 ... xn yn`.
std::string yolo_polygon_line(int cls, const Polygon& points, int width, int height);

// Pose: the visible box, then `x y v` of each corner in the card's order, v from corner_visible
// (0, outside the frame, as x = y = 0).
std::string yolo_pose_line(int cls, const CardLabel& card, int width, int height);

}  // namespace cardsynth
