#include "scene/distractors.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "config/config.h"

namespace cardsynth {
namespace {

constexpr double kTau = 6.283185307179586;

enum class Kind { Die, Token, Coin, DeckBox, Sleeves, Phone, Paper, Hand, kCount };

cv::Scalar grey(double v) {
    return cv::Scalar(v, v, v);
}

// One draw a statement, the last channel first as GCC evaluated the constructor's arguments: the
// order of evaluation of a call's arguments is unspecified, and the bytes must not depend on the
// compiler.
cv::Scalar random_scalar(Rng& rng, Range c0, Range c1, Range c2) {
    const double v2 = rng.uniform(c2.lo, c2.hi);
    const double v1 = rng.uniform(c1.lo, c1.hi);
    const double v0 = rng.uniform(c0.lo, c0.hi);
    return cv::Scalar(v0, v1, v2);
}

cv::Scalar random_colour(Rng& rng, double lo = 30, double hi = 230) {
    return random_scalar(rng, {lo, hi}, {lo, hi}, {lo, hi});
}

// The corners of a w x h rectangle centred at c, turned by `angle`.
std::vector<cv::Point> box(cv::Point2d c, double w, double h, double angle) {
    std::vector<cv::Point> p;
    const double ca = std::cos(angle), sa = std::sin(angle);
    for (auto [u, v] : {std::pair{-0.5, -0.5}, {0.5, -0.5}, {0.5, 0.5}, {-0.5, 0.5}})
        p.emplace_back(static_cast<int>(std::lround(c.x + u * w * ca - v * h * sa)),
                       static_cast<int>(std::lround(c.y + u * w * sa + v * h * ca)));
    return p;
}

cv::Point at(cv::Point2d c, double u, double v, double angle) {
    const double ca = std::cos(angle), sa = std::sin(angle);
    return cv::Point(static_cast<int>(std::lround(c.x + u * ca - v * sa)),
                     static_cast<int>(std::lround(c.y + u * sa + v * ca)));
}

void fill(cv::Mat& img, const std::vector<cv::Point>& poly, const cv::Scalar& colour) {
    cv::fillConvexPoly(img, poly, colour, cv::LINE_AA);
}

void die(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng) {
    const cv::Scalar body = rng.bernoulli(0.5) ? grey(rng.uniform(200, 245)) : random_colour(rng);
    const cv::Scalar pip = cv::norm(body) > 300 ? grey(20) : grey(240);
    fill(img, box(c, s, s, angle), body);
    const int n = static_cast<int>(rng.uniform_int(1, 6));
    static const double kPips[6][6][2] = {{{0, 0}},
                                          {{-1, -1}, {1, 1}},
                                          {{-1, -1}, {0, 0}, {1, 1}},
                                          {{-1, -1}, {1, -1}, {-1, 1}, {1, 1}},
                                          {{-1, -1}, {1, -1}, {0, 0}, {-1, 1}, {1, 1}},
                                          {{-1, -1}, {1, -1}, {-1, 0}, {1, 0}, {-1, 1}, {1, 1}}};
    for (int k = 0; k < n; ++k)
        cv::circle(img, at(c, kPips[n - 1][k][0] * s * 0.27, kPips[n - 1][k][1] * s * 0.27, angle),
                   std::max(1, static_cast<int>(s * 0.09)), pip, cv::FILLED, cv::LINE_AA);
}

void token(cv::Mat& img, cv::Point2d c, double s, Rng& rng) {
    const cv::Scalar colour = random_colour(rng);
    cv::circle(img, c, static_cast<int>(s / 2), colour, cv::FILLED, cv::LINE_AA);
    cv::circle(img, c, static_cast<int>(s * 0.38), colour * 0.6,
               std::max(1, static_cast<int>(s / 16)), cv::LINE_AA);
    const std::string text = std::to_string(rng.uniform_int(1, 20));
    const double scale = s / 45.0;
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
    cv::putText(
        img, text,
        cv::Point(static_cast<int>(c.x) - size.width / 2, static_cast<int>(c.y) + size.height / 2),
        cv::FONT_HERSHEY_SIMPLEX, scale, grey(rng.bernoulli(0.5) ? 15 : 240), 1, cv::LINE_AA);
}

void coin(cv::Mat& img, cv::Point2d c, double s, Rng& rng) {
    const bool gold = rng.bernoulli(0.5);
    const cv::Scalar metal = gold ? cv::Scalar(200, 160, 70) : cv::Scalar(180, 180, 175);
    cv::circle(img, c, static_cast<int>(s / 2), metal * 0.7, cv::FILLED, cv::LINE_AA);
    cv::circle(img, c, static_cast<int>(s * 0.42), metal, cv::FILLED, cv::LINE_AA);
    cv::circle(img, c + cv::Point2d(-s * 0.1, -s * 0.1), static_cast<int>(s * 0.15), metal * 1.2,
               cv::FILLED, cv::LINE_AA);
    cv::circle(img, c, static_cast<int>(s * 0.3), metal * 0.8, 1, cv::LINE_AA);
}

void deck_box(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng) {
    const cv::Scalar colour = random_colour(rng, 15, 200);
    const double w = s * rng.uniform(0.6, 0.8), h = s;
    fill(img, box(c + cv::Point2d(s * 0.06, s * 0.06), w, h, angle), colour * 0.55);  // its side
    fill(img, box(c, w, h, angle), colour);
    cv::line(img, at(c, -w / 2, -h * 0.3, angle), at(c, w / 2, -h * 0.3, angle), colour * 0.5,
             std::max(1, static_cast<int>(s / 60)), cv::LINE_AA);
    // A logo: a ring and a word, as printed boxes carry.
    cv::circle(img, at(c, 0, h * 0.05, angle), static_cast<int>(w * 0.25), grey(235),
               std::max(1, static_cast<int>(s / 40)), cv::LINE_AA);
    cv::putText(img, "DECK", at(c, -w * 0.3, h * 0.35, angle), cv::FONT_HERSHEY_SIMPLEX, s / 150.0,
                grey(235), 1, cv::LINE_AA);
}

void sleeves(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng) {
    const cv::Scalar colour = random_colour(rng, 10, 160);
    const double w = s * 0.72, h = s;
    const int layers = static_cast<int>(rng.uniform_int(2, 6));
    for (int k = layers - 1; k >= 0; --k) {
        const cv::Point2d o(k * s * 0.012, k * s * 0.02);
        fill(img, box(c + o, w, h, angle), colour * (k ? 0.7 : 1.0));
        // The sleeve's glossy edge, lighter, along the long sides.
        cv::polylines(img, std::vector<std::vector<cv::Point>>{box(c + o, w, h, angle)}, true,
                      colour * 1.4, 1, cv::LINE_AA);
    }
}

void phone(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng) {
    const double w = s * rng.uniform(0.45, 0.52), h = s;
    fill(img, box(c, w, h, angle), grey(rng.uniform(10, 40)));
    const cv::Scalar screen = random_colour(rng, 20, 160);
    fill(img, box(c, w * 0.9, h * 0.86, angle), screen);
    // A grid of app icons.
    for (int row = 0; row < 5; ++row)
        for (int col = 0; col < 4; ++col)
            fill(img,
                 box(at(c, (col - 1.5) * w * 0.21, (row - 2.5) * h * 0.14, angle), w * 0.13,
                     w * 0.13, angle),
                 random_colour(rng));
}

void paper(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng) {
    const double w = s * 0.72, h = s;
    fill(img, box(c, w, h, angle), grey(rng.uniform(215, 250)));
    const double scale = s / rng.uniform(500.0, 900.0);
    const int lines = static_cast<int>(h * 0.8 / std::max(4.0, 30 * scale));
    for (int k = 0; k < lines; ++k) {
        std::string text;
        const int words = static_cast<int>(rng.uniform_int(3, 9));
        for (int word = 0; word < words; ++word) {
            const int len = static_cast<int>(rng.uniform_int(2, 8));
            for (int i = 0; i < len; ++i) text += static_cast<char>('a' + rng.uniform_int(0, 25));
            text += ' ';
        }
        // putText cannot turn text, so the lines stay level; a tilted sheet shows them so too.
        const cv::Point start = at(c, -w * 0.4, -h * 0.4 + (k + 1) * h * 0.8 / (lines + 1), angle);
        cv::putText(img, text, start, cv::FONT_HERSHEY_SIMPLEX, scale, grey(40), 1, cv::LINE_AA);
    }
}

void hand(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng) {
    const cv::Scalar skin = random_scalar(rng, {150, 235}, {100, 180}, {70, 150});
    const double deg = angle * 360 / kTau;
    cv::ellipse(img, c, cv::Size(static_cast<int>(s * 0.3), static_cast<int>(s * 0.24)), deg, 0,
                360, skin, cv::FILLED, cv::LINE_AA);
    for (int f = 0; f < 4; ++f) {
        const double u = -s * 0.2 + f * s * 0.13;
        cv::ellipse(img, at(c, u, -s * 0.38 + std::abs(f - 1.5) * s * 0.04, angle),
                    cv::Size(static_cast<int>(s * 0.055), static_cast<int>(s * 0.2)), deg, 0, 360,
                    skin * 0.97, cv::FILLED, cv::LINE_AA);
    }
    cv::ellipse(img, at(c, s * 0.32, -s * 0.05, angle),
                cv::Size(static_cast<int>(s * 0.06), static_cast<int>(s * 0.17)), deg - 40, 0, 360,
                skin * 0.95, cv::FILLED, cv::LINE_AA);
    // The wrist leaves the frame.
    fill(img, box(at(c, 0, s * 0.55, angle), s * 0.42, s * 0.7, angle), skin * 0.92);
}

// A soft shadow under an object: its disc of about size s, darkened, blurred, offset.
void shadow(cv::Mat& img, cv::Point2d c, double s, Rng& rng) {
    const int pad = static_cast<int>(s) + 8;
    const cv::Rect area =
        cv::Rect(static_cast<int>(c.x) - pad, static_cast<int>(c.y) - pad, 2 * pad, 2 * pad) &
        cv::Rect(0, 0, img.cols, img.rows);
    if (area.empty()) return;
    cv::Mat mask = cv::Mat::zeros(area.size(), CV_32F);
    const cv::Point2d o(c.x - area.x + s * 0.06, c.y - area.y + s * 0.08);
    cv::ellipse(mask, o, cv::Size(static_cast<int>(s * 0.55), static_cast<int>(s * 0.6)), 0, 0, 360,
                1.0, cv::FILLED);
    cv::GaussianBlur(mask, mask, cv::Size(0, 0), std::max(1.0, s * 0.06));
    const float k = static_cast<float>(rng.uniform(0.25, 0.45));
    cv::Mat roi = img(area);
    for (int y = 0; y < roi.rows; ++y) {
        auto* px = roi.ptr<cv::Vec3f>(y);
        const float* m = mask.ptr<float>(y);
        for (int x = 0; x < roi.cols; ++x) px[x] *= 1.0f - k * m[x];
    }
}

// Each kind of object: its size as a fraction of the image height, and its painter.
struct ObjectKind {
    double size_lo, size_hi;
    void (*paint)(cv::Mat& img, cv::Point2d c, double s, double angle, Rng& rng);
};

const ObjectKind kKinds[] = {
    {0.05, 0.11, die},
    {0.06, 0.15,
     [](cv::Mat& img, cv::Point2d c, double s, double, Rng& rng) { token(img, c, s, rng); }},
    {0.05, 0.11,
     [](cv::Mat& img, cv::Point2d c, double s, double, Rng& rng) { coin(img, c, s, rng); }},
    {0.25, 0.45, deck_box},
    {0.25, 0.45, sleeves},
    {0.35, 0.6, phone},
    {0.4, 0.8, paper},
    {0.3, 0.6, hand},
};
static_assert(std::size(kKinds) == static_cast<size_t>(Kind::kCount));

struct Object {
    const ObjectKind* kind;
    cv::Point2d centre;
    double angle, size;
};

Object pick_object(Rng& rng, int width, int height) {
    Object o;
    o.kind = &kKinds[rng.uniform_int(0, static_cast<int>(Kind::kCount) - 1)];
    const double y = rng.uniform(0, height);
    const double x = rng.uniform(0, width);
    o.centre = cv::Point2d(x, y);
    o.angle = rng.uniform(0, kTau);
    o.size = height * rng.uniform(o.kind->size_lo, o.kind->size_hi);
    return o;
}

}  // namespace

void paint_distractors(Rng& rng, cv::Mat& img, double per_frame) {
    if (per_frame <= 0) return;
    const double scale = rng.uniform(0.5, 1.5);
    const double dither = rng.uniform();
    const int n = static_cast<int>(std::floor(per_frame * scale + dither));
    for (int k = 0; k < n; ++k) {
        const Object o = pick_object(rng, img.cols, img.rows);
        shadow(img, o.centre, o.size, rng);
        o.kind->paint(img, o.centre, o.size, o.angle, rng);
    }
}

// Painted twice from the same numbers, over black and over white: every painter blends linearly
// with what lies under it, so the black patch is colour x coverage and the difference of the two
// is (1 - coverage) x 255, whatever shapes the object is made of.
ObjectPatch draw_object(Rng& rng, int width, int height) {
    const Object o = pick_object(rng, width, height);
    const int pad = static_cast<int>(std::ceil(o.size)) + 8;
    ObjectPatch p;
    p.area = cv::Rect(static_cast<int>(std::floor(o.centre.x)) - pad,
                      static_cast<int>(std::floor(o.centre.y)) - pad, 2 * pad, 2 * pad) &
             cv::Rect(0, 0, width, height);
    if (p.area.empty()) return p;
    const cv::Point2d c = o.centre - cv::Point2d(p.area.x, p.area.y);
    Rng twin = rng;
    p.premultiplied = cv::Mat(p.area.size(), CV_32FC3, cv::Scalar::all(0));
    o.kind->paint(p.premultiplied, c, o.size, o.angle, twin);
    cv::Mat white(p.area.size(), CV_32FC3, cv::Scalar::all(255));
    o.kind->paint(white, c, o.size, o.angle, rng);
    p.coverage = cv::Mat(p.area.size(), CV_32F);
    for (int y = 0; y < p.area.height; ++y) {
        const cv::Vec3f* b = p.premultiplied.ptr<cv::Vec3f>(y);
        const cv::Vec3f* w = white.ptr<cv::Vec3f>(y);
        float* a = p.coverage.ptr<float>(y);
        for (int x = 0; x < p.area.width; ++x)
            a[x] = std::clamp(1.0f - (w[x][0] - b[x][0]) / 255.0f, 0.0f, 1.0f);
    }
    return p;
}

}  // namespace cardsynth
