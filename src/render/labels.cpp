#include "render/labels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cardsynth {
namespace {

struct SlotStats {
    int64_t pixels = 0;
    int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
};

// The card's outline area in frame pixels: the quad's area less the four rounded corners, the
// corners scaled by the pose's mean area factor.
float outline_area(const CardPlacement& card, const Vec2 q[4]) {
    float twice = 0;
    for (int k = 0; k < 4; ++k) twice += q[k].x * q[(k + 1) % 4].y - q[(k + 1) % 4].x * q[k].y;
    const float quad = std::fabs(twice) / 2;
    const float card_area = card.width * card.height;
    const float r = card.corner_radius;
    const float cut = (4.0f - 3.14159265f) * r * r;
    return card_area > 0 ? quad * (1.0f - cut / card_area) : 0.0f;
}

}  // namespace

ImageLabels compute_labels(const SceneSpec& scene, const cv::Mat& ids) {
    const int W = scene.width, H = scene.height;
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
        // A point just inside each corner, past the rounded cut, tells whether it is seen.
        const float d = card.corner_radius * (1.0f - 0.70710678f) + 1.5f;
        const float inset_u[4] = {d, card.width - d, card.width - d, d};
        const float inset_v[4] = {d, d, card.height - d, card.height - d};
        float bx0 = 1e30f, by0 = 1e30f, bx1 = -1e30f, by1 = -1e30f;
        for (int c = 0; c < 4; ++c) {
            l.corners[2 * c] = q[c].x;
            l.corners[2 * c + 1] = q[c].y;
            bx0 = std::min(bx0, q[c].x), bx1 = std::max(bx1, q[c].x);
            by0 = std::min(by0, q[c].y), by1 = std::max(by1, q[c].y);
            const bool in_frame = q[c].x >= 0 && q[c].x < W && q[c].y >= 0 && q[c].y < H;
            if (!in_frame) {
                l.corner_visible[c] = 0;
                continue;
            }
            const Vec2 p = mat3_apply(card.pose, inset_u[c], inset_v[c]);
            const int px = std::clamp(static_cast<int>(std::floor(p.x)), 0, W - 1);
            const int py = std::clamp(static_cast<int>(std::floor(p.y)), 0, H - 1);
            l.corner_visible[c] = ids.at<uint8_t>(py, px) == k + 1 ? 2 : 1;
        }
        l.bbox_full = {std::clamp(bx0, 0.0f, static_cast<float>(W)),
                       std::clamp(by0, 0.0f, static_cast<float>(H)),
                       std::clamp(bx1, 0.0f, static_cast<float>(W)),
                       std::clamp(by1, 0.0f, static_cast<float>(H))};
        const SlotStats& st = stats[k + 1];
        if (st.pixels > 0)
            l.bbox = {static_cast<float>(st.x0), static_cast<float>(st.y0),
                      static_cast<float>(st.x1 + 1), static_cast<float>(st.y1 + 1)};
        const float area = outline_area(card, q);
        l.visible_fraction = area > 0 ? std::min(1.0f, static_cast<float>(st.pixels) / area) : 0.0f;
    }
    return out;
}

}  // namespace cardsynth
