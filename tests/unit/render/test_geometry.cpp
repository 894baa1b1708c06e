#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "render/kernels/geometry.h"
#include "render_support.h"
#include "scene/scene.h"

using namespace cardsynth;
using cardsynth::testing::Fixture;

TEST_CASE("an unrotated, unscaled card at (x, y) has its corners at the box's corners") {
    CardPlacement p;
    p.width = 63;
    p.height = 88;
    p.pose = mat3_translate(10.5f, 20.0f);
    Vec2 q[4];
    card_corners(p, q);
    CHECK(q[0].x == Approx(10.5f));
    CHECK(q[0].y == Approx(20.0f));
    CHECK(q[1].x == Approx(73.5f));
    CHECK(q[1].y == Approx(20.0f));
    CHECK(q[2].x == Approx(73.5f));
    CHECK(q[2].y == Approx(108.0f));
    CHECK(q[3].x == Approx(10.5f));
    CHECK(q[3].y == Approx(108.0f));
}

TEST_CASE("the inverse of a homography undoes it") {
    const Mat3 h = mat3_mul(
        mat3_translate(30, -7),
        mat3_mul(Mat3{{1, 0.1f, 0, -0.2f, 1.1f, 0, 0.001f, -0.0005f, 1}}, mat3_rotate(0.8f, 0.6f)));
    const Mat3 inv = mat3_inverse(h);
    for (float x : {-50.0f, 0.0f, 12.5f, 200.0f})
        for (float y : {-3.0f, 40.0f, 90.0f}) {
            const Vec2 a = mat3_apply(h, x, y);
            const Vec2 b = mat3_apply(inv, a.x, a.y);
            CHECK(b.x == Approx(x).margin(1e-3));
            CHECK(b.y == Approx(y).margin(1e-3));
        }
}

TEST_CASE("row_span covers exactly the pixel centres that map inside the rectangle") {
    const Mat3 to_tex = mat3_inverse(mat3_mul(mat3_translate(40, 30), mat3_rotate(0.9f, 0.43589f)));
    for (int y = 0; y < 120; ++y) {
        int lo = 0, hi = -1;
        const bool any = row_span(to_tex, static_cast<float>(y), 0, 50, 0, 70, &lo, &hi);
        for (int x = -10; x < 140; ++x) {
            const Vec2 t = mat3_apply(to_tex, x + 0.5f, y + 0.5f);
            const bool inside = t.x >= 0.01f && t.x <= 49.99f && t.y >= 0.01f && t.y <= 69.99f;
            const bool outside = t.x < -0.01f || t.x > 50.01f || t.y < -0.01f || t.y > 70.01f;
            if (inside) CHECK((any && x >= lo && x <= hi));
            if (outside) CHECK_FALSE((any && x >= lo && x <= hi));
        }
    }
}

TEST_CASE("bilinear sampling is exact at pixel centres and transparent beyond the border") {
    uint8_t tex[4 * 4 * 4] = {};
    tex[(1 * 4 + 1) * 4 + 0] = 200;  // pixel (1, 1), premultiplied, opaque
    tex[(1 * 4 + 1) * 4 + 3] = 255;
    const TexView view{tex, 4, 4, 16};
    uint32_t s[4];
    sample_bilinear(view, 1.5f, 1.5f, s);
    CHECK(s[0] == 200);
    CHECK(s[3] == 255);
    sample_bilinear(view, 2.0f, 1.5f, s);  // halfway to a transparent neighbour
    CHECK(s[3] == 128);
    sample_bilinear(view, 3.5f, 3.5f, s);
    CHECK(s[3] == 0);
}

// Distance from p to the pixel square of (x, y).
static double square_distance(double px, double py, int x, int y) {
    const double dx = std::max({x - px, 0.0, px - (x + 1)});
    const double dy = std::max({y - py, 0.0, py - (y + 1)});
    return std::hypot(dx, dy);
}

// Distances from a corner to the nearest pixel square inside the card's id region and outside it.
static void corner_distances(const cv::Mat& ids, Vec2 c, double& d_in, double& d_out) {
    d_in = d_out = 1e9;
    for (int y = static_cast<int>(c.y) - 3; y <= static_cast<int>(c.y) + 3; ++y)
        for (int x = static_cast<int>(c.x) - 3; x <= static_cast<int>(c.x) + 3; ++x) {
            const double d = square_distance(c.x, c.y, x, y);
            if (ids.at<uint8_t>(y, x) == 1)
                d_in = std::min(d_in, d);
            else
                d_out = std::min(d_out, d);
        }
}

TEST_CASE(
    "an axis-aligned card's corners lie on the boundary of its id-buffer region within half a "
    "pixel") {
    Fixture f(200, 200, 84);
    for (float deg : {0.0f, 90.0f, 180.0f, 270.0f}) {
        SceneSpec s = f.empty_scene();
        s.cards.push_back(Fixture::card(100.3f, 97.8f, 84, deg));
        const Frame frame = f.render(s);
        Vec2 q[4];
        card_corners(s.cards[0], q);
        for (const Vec2& c : q) {
            double d_in, d_out;
            corner_distances(frame.ids, c, d_in, d_out);
            INFO("angle " << deg << " corner (" << c.x << ", " << c.y << ")");
            CHECK(d_in <= 0.5);
            CHECK(d_out <= 0.5);
        }
    }
}

// A pixel belongs to the region when its centre is inside the card, so the sharp tip of a turned
// card can reach up to one pixel past the last centre inside it; on average a corner still sits
// within half a pixel of the region, and never more than one pixel from it.
TEST_CASE("a rotated card's corners lie on the boundary of its id-buffer region") {
    Fixture f(200, 200, 84);
    double sum_in = 0;
    int corners = 0;
    for (int step = 0; step < 36; ++step) {
        const float deg = 3.7f + step * 10.0f;
        SceneSpec s = f.empty_scene();
        s.cards.push_back(Fixture::card(100.3f, 97.8f, 84, deg));
        const Frame frame = f.render(s);
        Vec2 q[4];
        card_corners(s.cards[0], q);
        for (const Vec2& c : q) {
            double d_in, d_out;
            corner_distances(frame.ids, c, d_in, d_out);
            INFO("angle " << deg << " corner (" << c.x << ", " << c.y << ")");
            CHECK(d_in <= 1.0);
            CHECK(d_out <= 0.5);
            sum_in += d_in;
            ++corners;
        }
    }
    CHECK(sum_in / corners <= 0.5);
}
