#include "export/geometry.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgproc.hpp>

namespace cardsynth {
namespace {

// One half-plane pass of Sutherland-Hodgman: keeps the points where inside(p) holds.
template <class Inside, class Cross>
Polygon clip_edge(const Polygon& in, Inside inside, Cross cross) {
    Polygon out;
    for (size_t k = 0; k < in.size(); ++k) {
        const cv::Point2d& prev = in[(k + in.size() - 1) % in.size()];
        const cv::Point2d& cur = in[k];
        if (inside(cur)) {
            if (!inside(prev)) out.push_back(cross(prev, cur));
            out.push_back(cur);
        } else if (inside(prev)) {
            out.push_back(cross(prev, cur));
        }
    }
    return out;
}

// The point of segment a-b where coordinate `axis` (0: x, 1: y) equals `v`.
cv::Point2d cross_at(const cv::Point2d& a, const cv::Point2d& b, int axis, double v) {
    const double pa = axis ? a.y : a.x, pb = axis ? b.y : b.x;
    const double t = (v - pa) / (pb - pa);
    cv::Point2d p = a + (b - a) * t;
    (axis ? p.y : p.x) = v;  // exact, so that a clipped point lies on the frame
    return p;
}

Polygon without_repeats(const Polygon& in) {
    Polygon out;
    for (const cv::Point2d& p : in)
        if (out.empty() || cv::norm(p - out.back()) > 1e-9) out.push_back(p);
    while (out.size() > 1 && cv::norm(out.front() - out.back()) <= 1e-9) out.pop_back();
    return out;
}

}  // namespace

Polygon clip_to_frame(const Polygon& polygon, int width, int height) {
    Polygon p = polygon;
    const double limits[2] = {static_cast<double>(width), static_cast<double>(height)};
    for (int axis = 0; axis < 2 && !p.empty(); ++axis) {
        const auto coord = [axis](const cv::Point2d& q) { return axis ? q.y : q.x; };
        p = clip_edge(
            p, [&](const cv::Point2d& q) { return coord(q) >= 0; },
            [&](const cv::Point2d& a, const cv::Point2d& b) { return cross_at(a, b, axis, 0); });
        if (p.empty()) break;
        const double hi = limits[axis];
        p = clip_edge(
            p, [&](const cv::Point2d& q) { return coord(q) <= hi; },
            [&](const cv::Point2d& a, const cv::Point2d& b) { return cross_at(a, b, axis, hi); });
    }
    p = without_repeats(p);
    if (p.size() < 3) p.clear();
    return p;
}

Polygon oriented_box(const CardLabel& card, int width, int height) {
    Polygon quad;
    for (int c = 0; c < 4; ++c) quad.emplace_back(card.corners[2 * c], card.corners[2 * c + 1]);
    Polygon clipped = clip_to_frame(quad, width, height);
    if (clipped.size() == 4 || clipped.empty()) return clipped;
    std::vector<cv::Point2f> points(clipped.begin(), clipped.end());
    cv::Point2f corners[4];
    cv::minAreaRect(points).points(corners);
    Polygon box;
    for (const cv::Point2f& c : corners)
        box.emplace_back(std::clamp<double>(c.x, 0, width), std::clamp<double>(c.y, 0, height));
    return box;
}

namespace {

// Fills the pixels of `slots` whose centre lies inside the convex quad (half-open on the right and
// bottom, so that two cards sharing an edge share no pixel). cv::fillConvexPoly would also fill
// the pixels its rounded edges touch.
void fill_quad(const std::array<float, 8>& corners, uint8_t value, cv::Mat& slots) {
    double top = 1e300, bottom = -1e300;
    for (int c = 0; c < 4; ++c) {
        top = std::min<double>(top, corners[2 * c + 1]);
        bottom = std::max<double>(bottom, corners[2 * c + 1]);
    }
    // Clamped as doubles: a corner far outside the frame would overflow an int.
    const int y0 = static_cast<int>(std::clamp(std::ceil(top - 0.5), 0.0, double(slots.rows)));
    const int y1 = static_cast<int>(std::clamp(std::ceil(bottom - 0.5), 0.0, double(slots.rows)));
    for (int y = y0; y < y1; ++y) {
        const double yc = y + 0.5;
        double left = 1e300, right = -1e300;
        for (int c = 0; c < 4; ++c) {
            const double ax = corners[2 * c], ay = corners[2 * c + 1];
            const double bx = corners[(2 * c + 2) % 8], by = corners[(2 * c + 3) % 8];
            if ((ay <= yc) == (by <= yc)) continue;  // the edge does not cross this row
            const double x = ax + (bx - ax) * (yc - ay) / (by - ay);
            left = std::min(left, x);
            right = std::max(right, x);
        }
        if (left > right) continue;
        const int x0 = static_cast<int>(std::clamp(std::ceil(left - 0.5), 0.0, double(slots.cols)));
        const int x1 =
            static_cast<int>(std::clamp(std::ceil(right - 0.5), 0.0, double(slots.cols)));
        if (x1 > x0) std::memset(slots.ptr<uint8_t>(y) + x0, value, static_cast<size_t>(x1 - x0));
    }
}

}  // namespace

void paint_slots(const std::vector<CardLabel>& cards, int width, int height, cv::Mat& slots) {
    slots.create(height, width, CV_8U);
    slots.setTo(0);
    for (size_t k = 0; k < cards.size(); ++k)
        fill_quad(cards[k].corners, static_cast<uint8_t>(k + 1), slots);
}

cv::Rect box_roi(const std::array<float, 4>& box, int width, int height) {
    const int x0 = std::max(0, static_cast<int>(std::floor(box[0])));
    const int y0 = std::max(0, static_cast<int>(std::floor(box[1])));
    const int x1 = std::min(width, static_cast<int>(std::ceil(box[2])));
    const int y1 = std::min(height, static_cast<int>(std::ceil(box[3])));
    return cv::Rect(x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0));
}

Polygon region_outline(const cv::Mat& slots, uint8_t value, const cv::Rect& roi) {
    if (roi.area() == 0) return {};
    cv::Mat binary = slots(roi) == value;
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(binary, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE, roi.tl());
    const std::vector<cv::Point>* best = nullptr;
    double best_area = -1;
    for (const auto& c : contours) {
        const double area = cv::contourArea(c);
        if (area > best_area || (area == best_area && c.size() > best->size())) {
            best = &c;
            best_area = area;
        }
    }
    Polygon out;
    if (best)
        for (const cv::Point& p : *best) out.emplace_back(p.x + 0.5, p.y + 0.5);
    return out;
}

}  // namespace cardsynth
