#include "export/yolo.h"

#include <algorithm>
#include <cstdio>

namespace cardsynth {

void append_unit(std::string& line, double v) {
    char text[32];
    const int n = std::snprintf(text, sizeof text, " %.6f", std::clamp(v, 0.0, 1.0));
    line.append(text, static_cast<size_t>(n));
}

namespace {

void append_box(std::string& line, const std::array<float, 4>& box, int width, int height) {
    const double x0 = std::clamp<double>(box[0], 0, width),
                 x1 = std::clamp<double>(box[2], 0, width);
    const double y0 = std::clamp<double>(box[1], 0, height),
                 y1 = std::clamp<double>(box[3], 0, height);
    append_unit(line, (x0 + x1) / 2 / width);
    append_unit(line, (y0 + y1) / 2 / height);
    append_unit(line, (x1 - x0) / width);
    append_unit(line, (y1 - y0) / height);
}

}  // namespace

std::string yolo_box_line(int cls, const std::array<float, 4>& box, int width, int height) {
    std::string line = std::to_string(cls);
    append_box(line, box, width, height);
    return line + '\n';
}

std::string yolo_polygon_line(int cls, const Polygon& points, int width, int height) {
    std::string line = std::to_string(cls);
    for (const cv::Point2d& p : points) {
        append_unit(line, p.x / width);
        append_unit(line, p.y / height);
    }
    return line + '\n';
}

std::string yolo_pose_line(int cls, const CardLabel& card, int width, int height) {
    std::string line = std::to_string(cls);
    append_box(line, card.bbox, width, height);
    for (int c = 0; c < 4; ++c) {
        const int v = card.corner_visible[c];
        append_unit(line, v ? card.corners[2 * c] / width : 0.0);
        append_unit(line, v ? card.corners[2 * c + 1] / height : 0.0);
        line += v == 2 ? " 2" : v == 1 ? " 1" : " 0";
    }
    return line + '\n';
}

}  // namespace cardsynth
