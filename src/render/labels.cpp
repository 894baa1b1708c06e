#include "render/labels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "render/lens.h"

namespace cardsynth {
namespace {

struct SlotStats {
    int64_t pixels = 0;
    int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
};

// Points along the card's outline (its rectangle, corners included) where the frame shows
// them: through the lens when there is one, since it bends the edges.
std::vector<Vec2> outline(const CardPlacement& card, const Lens& lens) {
    constexpr int kPerEdge = 16;
    const float u[5] = {0, card.width, card.width, 0, 0};
    const float v[5] = {0, 0, card.height, card.height, 0};
    std::vector<Vec2> out;
    for (int e = 0; e < 4; ++e)
        for (int i = 0; i < kPerEdge; ++i) {
            const float t = static_cast<float>(i) / kPerEdge;
            const Vec2 p =
                mat3_apply(card.pose, u[e] + t * (u[e + 1] - u[e]), v[e] + t * (v[e + 1] - v[e]));
            out.push_back(lens_image(lens, p));
        }
    return out;
}

float polygon_area(const Vec2* p, size_t n) {
    float twice = 0;
    for (size_t k = 0; k < n; ++k) twice += p[k].x * p[(k + 1) % n].y - p[(k + 1) % n].x * p[k].y;
    return std::fabs(twice) / 2;
}

// The box of `n` points, clipped to the frame.
std::array<float, 4> full_box(const Vec2* p, size_t n, int W, int H) {
    float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
    for (size_t k = 0; k < n; ++k)
        x0 = std::min(x0, p[k].x), x1 = std::max(x1, p[k].x), y0 = std::min(y0, p[k].y),
        y1 = std::max(y1, p[k].y);
    return {
        std::clamp(x0, 0.0f, static_cast<float>(W)), std::clamp(y0, 0.0f, static_cast<float>(H)),
        std::clamp(x1, 0.0f, static_cast<float>(W)), std::clamp(y1, 0.0f, static_cast<float>(H))};
}

// The card's outline area in frame pixels: the outline's area less the four rounded corners,
// the corners scaled by the pose's mean area factor.
float outline_area(const CardPlacement& card, float quad) {
    const float card_area = card.width * card.height;
    const float r = card.corner_radius;
    const float cut = (4.0f - 3.14159265f) * r * r;
    return card_area > 0 ? quad * (1.0f - cut / card_area) : 0.0f;
}

}  // namespace

ImageLabels compute_labels(const SceneSpec& scene, const cv::Mat& ids) {
    const int W = scene.width, H = scene.height;
    const Lens lens = lens_of(scene);
    const size_t n = scene.cards.size();
    std::vector<SlotStats> stats(n + 1);
    for (int y = 0; y < H; ++y) {
        const uint8_t* row = ids.ptr<uint8_t>(y);
        int x = 0;
        while (x < W) {
            // Most of a frame is background: skip it eight pixels at a time.
            if (x + 8 <= W) {
                uint64_t word;
                std::memcpy(&word, row + x, 8);
                if (word == 0) {
                    x += 8;
                    continue;
                }
            }
            // A run of one slot updates its statistics once.
            const uint8_t s = row[x];
            int end = x + 1;
            while (end < W && row[end] == s) ++end;
            if (s && s <= n) {
                SlotStats& st = stats[s];
                st.pixels += end - x;
                st.x0 = std::min(st.x0, x), st.x1 = std::max(st.x1, end - 1);
                st.y0 = std::min(st.y0, y), st.y1 = std::max(st.y1, y);
            }
            x = end;
        }
    }
    ImageLabels out;
    out.cards.resize(n);
    for (size_t k = 0; k < n; ++k) {
        const CardPlacement& card = scene.cards[k];
        CardLabel& l = out.cards[k];
        l.card_id = card.card_id;
        Vec2 q[4];
        card_corners(card, q);
        // Through a lens the edges bend: the area and the whole-card box come from the bent
        // outline (its first points are the corners); without one, from the four corners.
        std::vector<Vec2> bent;
        if (lens.active()) {
            bent = outline(card, lens);
            for (Vec2& p : q) p = lens_image(lens, p);
        }
        const Vec2* shape = bent.empty() ? q : bent.data();
        const size_t points = bent.empty() ? 4 : bent.size();
        // A point just inside each corner, past the rounded cut, tells whether it is seen.
        const float d = card.corner_radius * (1.0f - 0.70710678f) + 1.5f;
        const float inset_u[4] = {d, card.width - d, card.width - d, d};
        const float inset_v[4] = {d, d, card.height - d, card.height - d};
        for (int c = 0; c < 4; ++c) {
            l.corners[2 * c] = q[c].x;
            l.corners[2 * c + 1] = q[c].y;
            const bool in_frame = q[c].x >= 0 && q[c].x < W && q[c].y >= 0 && q[c].y < H;
            if (!in_frame) {
                l.corner_visible[c] = 0;
                continue;
            }
            const Vec2 p = lens_image(lens, mat3_apply(card.pose, inset_u[c], inset_v[c]));
            const int px = std::clamp(static_cast<int>(std::floor(p.x)), 0, W - 1);
            const int py = std::clamp(static_cast<int>(std::floor(p.y)), 0, H - 1);
            l.corner_visible[c] = ids.at<uint8_t>(py, px) == k + 1 ? 2 : 1;
        }
        l.bbox_full = full_box(shape, points, W, H);
        const SlotStats& st = stats[k + 1];
        if (st.pixels > 0)
            l.bbox = {static_cast<float>(st.x0), static_cast<float>(st.y0),
                      static_cast<float>(st.x1 + 1), static_cast<float>(st.y1 + 1)};
        const float area = outline_area(card, polygon_area(shape, points));
        l.visible_fraction = area > 0 ? std::min(1.0f, static_cast<float>(st.pixels) / area) : 0.0f;
    }
    return out;
}

}  // namespace cardsynth
