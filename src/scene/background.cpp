#include "scene/background.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "base/fresh_image.h"
#include "base/parallel.h"
#include "base/rng.h"
#include "base/text.h"
#include "catalog/image_resize.h"
#include "catalog/turbojpeg.h"
#include "scene/distractors.h"

namespace cardsynth {
namespace {

namespace fs = std::filesystem;

constexpr std::array<double, kBackgroundLevels> kLevelScales{1.0, 1.25, 1.5};
constexpr std::array<const char*, kBuiltinPlaymats> kBuiltinNames{
    "felt",  "wood",    "cloth", "marble",    "printed", "zones",
    "weave", "leather", "tiles", "geometric", "art",     "photo"};
// Keys the playmats' random streams; a fixed constant, so that playmat `id` never depends on the
// run's seed and every run of every rank draws the same ones.
constexpr uint64_t kPlaymatKey = 0x706c61796d617473ULL;  // "playmats"
constexpr double kPi = 3.14159265358979323846;

struct Rgb {
    float r, g, b;
};

Rgb hsv(double hue_deg, double s, double v) {
    const double h = std::fmod(std::fmod(hue_deg, 360.0) + 360.0, 360.0) / 60.0;
    const double c = v * s;
    const double x = c * (1.0 - std::fabs(std::fmod(h, 2.0) - 1.0));
    const double m = v - c;
    double r = 0, g = 0, b = 0;
    switch (static_cast<int>(h)) {
        case 0:
            r = c, g = x;
            break;
        case 1:
            r = x, g = c;
            break;
        case 2:
            g = c, b = x;
            break;
        case 3:
            g = x, b = c;
            break;
        case 4:
            r = x, b = c;
            break;
        default:
            r = c, b = x;
            break;
    }
    return {static_cast<float>(255 * (r + m)), static_cast<float>(255 * (g + m)),
            static_cast<float>(255 * (b + m))};
}

// One draw a statement, v first and the hue's shift last as GCC evaluated hsv's arguments: the
// order of evaluation of a call's arguments is unspecified, and the bytes must not depend on the
// compiler.
Rgb random_hsv(Rng& rng, double hue, Range s, Range v) {
    const double value = rng.uniform(v.lo, v.hi);
    const double saturation = rng.uniform(s.lo, s.hi);
    return hsv(hue, saturation, value);
}

// As above, with the hue shifted by a draw from `shift`.
Rgb random_hsv(Rng& rng, double hue, Range shift, Range s, Range v) {
    const double value = rng.uniform(v.lo, v.hi);
    const double saturation = rng.uniform(s.lo, s.hi);
    const double shifted = hue + rng.uniform(shift.lo, shift.hi);
    return hsv(shifted, saturation, value);
}

Rgb mix(const Rgb& a, const Rgb& b, float t) {
    return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

Rgb scale(const Rgb& a, float k) {
    return {a.r * k, a.g * k, a.b * k};
}

float smoothstep(float lo, float hi, float v) {
    const float t = std::clamp((v - lo) / (hi - lo), 0.0f, 1.0f);
    return t * t * (3.0f - 2.0f * t);
}

// Smooth value noise in [0, 1]: a coarse grid of uniforms, oversampled and blurred, then scaled
// to size. Plain bicubic interpolation of the grid leaves streaks along its rows and columns that
// show once a texture sharpens the noise; the blur at a small size removes them cheaply.
cv::Mat value_noise(Rng& rng, int w, int h, int cells_x, int cells_y) {
    constexpr int kOversample = 8;
    cv::Mat grid(std::max(2, cells_y) + 1, std::max(2, cells_x) + 1, CV_32F);
    for (int y = 0; y < grid.rows; ++y)
        for (int x = 0; x < grid.cols; ++x)
            grid.at<float>(y, x) = static_cast<float>(rng.uniform());
    cv::Mat smooth;
    cv::resize(grid, smooth,
               cv::Size(std::min(w, grid.cols * kOversample), std::min(h, grid.rows * kOversample)),
               0, 0, cv::INTER_LINEAR);
    const double sigma_x = 0.45 * smooth.cols / grid.cols, sigma_y = 0.45 * smooth.rows / grid.rows;
    cv::GaussianBlur(smooth, smooth, cv::Size(0, 0), sigma_x, sigma_y, cv::BORDER_REFLECT);
    cv::normalize(smooth, smooth, 0.0, 1.0, cv::NORM_MINMAX);
    cv::Mat out;
    cv::resize(smooth, out, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
    return out;
}

// Fractal noise: octaves of value noise, each twice as fine and half as strong; about [0, 1].
cv::Mat fractal_noise(Rng& rng, int w, int h, int cells, int octaves) {
    cv::Mat sum = cv::Mat::zeros(h, w, CV_32F);
    double amplitude = 1.0, total = 0.0;
    const double aspect = static_cast<double>(h) / w;
    for (int o = 0; o < octaves; ++o) {
        const int cx = cells << o;
        const int cy = std::max(2, static_cast<int>(std::lround(cx * aspect)));
        cv::scaleAdd(value_noise(rng, w, h, cx, cy), amplitude, sum, sum);
        total += amplitude;
        amplitude *= 0.5;
    }
    return sum / total;
}

// Each texture fills `img` (CV_32FC3, R G B in 0..255) at the working resolution.
void felt(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb base = random_hsv(rng, hue + 140, {0.45, 0.65}, {0.32, 0.42});
    const cv::Mat blotch = fractal_noise(rng, w, h, 3, 4);
    const cv::Mat fibre = value_noise(rng, w, h, w / 3, h / 3);
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const float k =
                0.86f + 0.28f * blotch.at<float>(y, x) + 0.12f * (fibre.at<float>(y, x) - 0.5f);
            const Rgb c = scale(base, k);
            px[x] = {c.r, c.g, c.b};
        }
    }
}

void wood(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb light = random_hsv(rng, hue + 30, {0.5, 0.65}, {0.45, 0.55});
    const Rgb dark = random_hsv(rng, hue + 22, {0.6, 0.75}, {0.22, 0.3});
    // Grain runs along x: the warp varies slowly along x and quickly across the boards.
    const cv::Mat warp = value_noise(rng, w, h, 5, 40);
    const cv::Mat knots = fractal_noise(rng, w, h, 4, 3);
    const int boards = static_cast<int>(rng.uniform_int(4, 7));
    const double board_h = static_cast<double>(h) / boards;
    std::vector<double> offset(boards + 1), tone(boards + 1);
    for (int b = 0; b <= boards; ++b)
        offset[b] = rng.uniform(0.0, 10.0), tone[b] = rng.uniform(0.85, 1.1);
    const double period = board_h / rng.uniform(5.0, 8.0);
    for (int y = 0; y < h; ++y) {
        const int b = std::min(boards, static_cast<int>(y / board_h));
        const double in_board = y - b * board_h;
        const float seam = in_board < 1.5 || board_h - in_board < 1.0 ? 0.55f : 1.0f;
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const double phase = in_board / period + 2.5 * warp.at<float>(y, x) +
                                 1.5 * knots.at<float>(y, x) + offset[b];
            const float ring =
                static_cast<float>(std::pow(0.5 + 0.5 * std::sin(2 * kPi * phase), 3));
            const Rgb c =
                scale(mix(light, dark, 0.25f + 0.6f * ring), static_cast<float>(tone[b]) * seam);
            px[x] = {c.r, c.g, c.b};
        }
    }
}

void cloth(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb base = random_hsv(rng, hue + 215, {0.4, 0.6}, {0.3, 0.4});
    const cv::Mat folds = fractal_noise(rng, w, h, 2, 3);
    // A faint printed lattice of diamonds, about a tenth of the width apart.
    const double lattice = w / rng.uniform(8.0, 12.0);
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const float twill = ((x + y) / 2) % 2 == 0 ? 1.03f : 0.97f;
            const double d = std::fabs(std::sin(kPi * (x + y) / lattice)) *
                             std::fabs(std::sin(kPi * (x - y) / lattice));
            const float print = 1.0f + 0.07f * static_cast<float>(std::pow(d, 0.5));
            const float k = twill * print * (0.85f + 0.3f * folds.at<float>(y, x));
            const Rgb c = scale(base, k);
            px[x] = {c.r, c.g, c.b};
        }
    }
}

void marble(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb from = random_hsv(rng, hue + 260, {0.25, 0.4}, {0.3, 0.38});
    const Rgb to = random_hsv(rng, hue + 200, {0.3, 0.45}, {0.22, 0.3});
    const Rgb vein = hsv(hue + 240, 0.12, rng.uniform(0.62, 0.72));
    const cv::Mat turbulence = fractal_noise(rng, w, h, 3, 5);
    const double angle = rng.uniform(0.0, kPi);
    const double dx = std::cos(angle), dy = std::sin(angle);
    const double stripes = rng.uniform(2.0, 4.0) / w;
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const float along =
                static_cast<float>((x * dx + y * dy) / (w * std::fabs(dx) + h * std::fabs(dy)));
            const double s = std::sin(2 * kPi * ((x * dx + y * dy) * stripes) +
                                      9.0 * turbulence.at<float>(y, x));
            const float v = static_cast<float>(std::pow(1.0 - std::fabs(s), 7));
            const Rgb c = mix(mix(from, to, std::clamp(along + 0.5f, 0.0f, 1.0f)), vein, 0.55f * v);
            px[x] = {c.r, c.g, c.b};
        }
    }
}

void printed(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb base = random_hsv(rng, hue + 10, {0.5, 0.7}, {0.18, 0.24});
    const Rgb art = random_hsv(rng, hue + 290, {0.45, 0.6}, {0.35, 0.45});
    const Rgb gold = hsv(hue + 45, 0.55, 0.75);
    const cv::Mat clouds = fractal_noise(rng, w, h, 3, 5);
    const double cx = w * rng.uniform(0.4, 0.6), cy = h * rng.uniform(0.4, 0.6);
    const double radius = std::min(w, h) * rng.uniform(0.36, 0.44);
    const int points = static_cast<int>(rng.uniform_int(5, 8));
    const double spin = rng.uniform(0.0, 2 * kPi);
    const double line = std::max(1.0, std::min(w, h) / 180.0);
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const double rx = x - cx, ry = y - cy;
            const double r = std::hypot(rx, ry) / radius;
            const double theta = std::atan2(ry, rx) + spin;
            const float cloud = clouds.at<float>(y, x);
            Rgb c = mix(base, art, smoothstep(0.3f, 0.75f, cloud));
            // Two thin rings and a star of curved rays between them, printed in gold.
            double ink = 0.0;
            for (double ring : {1.0, 0.92, 0.45})
                ink = std::max(ink, std::exp(-std::pow((r - ring) * radius / line, 2)));
            if (r < 0.92) {
                const double ray = std::fabs(std::cos(points * theta * 0.5 + 3.0 * r));
                ink = std::max(ink,
                               0.6 * std::exp(-std::pow((1.0 - ray) * radius * r / (2 * line), 2)));
            }
            if (r < 0.45) c = mix(c, art, 0.35f * static_cast<float>(1.0 - r / 0.45));
            c = mix(c, gold, 0.7f * static_cast<float>(ink));
            px[x] = {c.r, c.g, c.b};
        }
    }
}

void zones(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb base = random_hsv(rng, hue + 100, {0.35, 0.5}, {0.28, 0.36});
    const Rgb ink = hsv(hue + 100, 0.2, 0.6);
    const cv::Mat blotch = fractal_noise(rng, w, h, 3, 3);
    // Card zones: a row of slots along the bottom and a few above, outlined as a mat prints them.
    cv::Mat outline = cv::Mat::zeros(h, w, CV_32F);
    const int card_h = static_cast<int>(h * 0.28), card_w = card_h * 5 / 7;
    const int thickness = std::max(1, h / 240);
    const int slots = std::max(1, (w - card_w / 2) / (card_w + card_w / 4));
    const int gap = (w - slots * card_w) / (slots + 1);
    for (int i = 0; i < slots; ++i) {
        const int x0 = gap + i * (card_w + gap);
        cv::rectangle(outline, cv::Rect(x0, h - card_h - h / 14, card_w, card_h), 1.0, thickness,
                      cv::LINE_AA);
        if (i == 0 || i == slots - 1)
            cv::rectangle(outline, cv::Rect(x0, h / 14, card_w, card_h), 1.0, thickness,
                          cv::LINE_AA);
    }
    // A hexagonal grid, faint, by the usual two offset lattices.
    const double size = h / rng.uniform(9.0, 13.0);
    const double sx = size, sy = size * std::sqrt(3.0);
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const double ax = std::fmod(x, sx) - sx / 2, ay = std::fmod(y, sy) - sy / 2;
            const double bx = std::fmod(x + sx / 2, sx) - sx / 2,
                         by = std::fmod(y + sy / 2, sy) - sy / 2;
            const bool first = ax * ax + ay * ay < bx * bx + by * by;
            const double gx = std::fabs(first ? ax : bx), gy = std::fabs(first ? ay : by);
            const double edge = std::max(gx * 0.5 + gy * std::sqrt(3.0) / 2, gx) / (sx / 2);
            const float hex = static_cast<float>(std::exp(-std::pow((1.0 - edge) * sx / 1.5, 2)));
            Rgb c = scale(base, 0.88f + 0.24f * blotch.at<float>(y, x));
            c = mix(c, ink, 0.12f * hex + 0.45f * outline.at<float>(y, x));
            px[x] = {c.r, c.g, c.b};
        }
    }
}

// Woven cloth seen close: over-under threads a few pixels wide, each thread shaded across its width
// and the yarn colour varying slowly, crisp enough to show every crossing.
void weave(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb warp_colour = random_hsv(rng, hue, {0, 360}, {0.2, 0.7}, {0.3, 0.6});
    const double weft_share = rng.uniform(0.0, 0.7f);
    const double weft_hue = hue + rng.uniform(0, 360);
    const Rgb weft_colour = mix(warp_colour, hsv(weft_hue, 0.5, 0.5), weft_share);
    const double pitch = rng.uniform(3.0, 9.0);
    const int over = static_cast<int>(rng.uniform_int(1, 3));  // plain, twill or basket
    const cv::Mat tone = fractal_noise(rng, w, h, 4, 3);
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        const int row = static_cast<int>(y / pitch);
        const double fy = y / pitch - row;
        for (int x = 0; x < w; ++x) {
            const int col = static_cast<int>(x / pitch);
            const double fx = x / pitch - col;
            const bool warp_on_top = ((col / over) + (row / over) + (over == 2 ? row : 0)) % 2 == 0;
            const double across = warp_on_top ? fx : fy;
            const float shade = static_cast<float>(0.55 + 0.45 * std::sin(kPi * across));
            const Rgb c = scale(warp_on_top ? warp_colour : weft_colour,
                                shade * (0.8f + 0.4f * tone.at<float>(y, x)));
            px[x] = {c.r, c.g, c.b};
        }
    }
}

// Leather: a pebbled grain (cells of fine noise with dark creases between them) over slow blotches.
void leather(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb base = random_hsv(rng, hue, {0, 40}, {0.3, 0.7}, {0.2, 0.45});
    const cv::Mat blotch = fractal_noise(rng, w, h, 3, 3);
    const cv::Mat grain = value_noise(rng, w, h, std::max(2, w / 5), std::max(2, h / 5));
    const cv::Mat crease = value_noise(rng, w, h, std::max(2, w / 14), std::max(2, h / 14));
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const float g = grain.at<float>(y, x);
            const float valley =
                1.0f - 0.5f * std::exp(-std::pow((crease.at<float>(y, x) - 0.5f) * 14.0f, 2.0f));
            const Rgb c =
                scale(base, (0.75f + 0.45f * g) * valley * (0.85f + 0.3f * blotch.at<float>(y, x)));
            px[x] = {c.r, c.g, c.b};
        }
    }
}

// Tiles: square, brick or hexagon-free rectangular tiles with grout lines and a colour per tile.
void tiles(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const double tw = rng.uniform(14.0, 60.0), th = tw * rng.uniform(0.5, 1.0);
    const bool brick = rng.bernoulli(0.5);
    const double grout = rng.uniform(1.0, 3.0);
    const Rgb base = random_hsv(rng, hue, {0, 360}, {0.05, 0.5}, {0.35, 0.75});
    const Rgb joint = hsv(hue, 0.05, rng.uniform(0.15, 0.85));
    const cv::Mat stain = fractal_noise(rng, w, h, 6, 3);
    const uint64_t tile_key = rng.next_u64();
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        const int row = static_cast<int>(y / th);
        const double shift = brick && row % 2 ? tw / 2 : 0.0;
        for (int x = 0; x < w; ++x) {
            const int col = static_cast<int>(std::floor((x + shift) / tw));
            const double fx = x + shift - col * tw, fy = y - row * th;
            const bool in_grout = fx < grout || fy < grout;
            Rng tile(tile_key,
                     static_cast<uint64_t>(row) * 7919u + static_cast<uint64_t>(col + 1000));
            const float k = static_cast<float>(tile.uniform(0.8, 1.15));
            const Rgb c = in_grout ? joint : scale(base, k * (0.9f + 0.2f * stain.at<float>(y, x)));
            px[x] = {c.r, c.g, c.b};
        }
    }
}

// Crisp geometric prints: truchet arcs, grids, dots, stripes or checks, in two or three colours.
void geometric(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const Rgb a = random_hsv(rng, hue, {0, 360}, {0.2, 0.8}, {0.15, 0.5});
    const Rgb b = random_hsv(rng, hue, {0, 360}, {0.2, 0.8}, {0.4, 0.85});
    const int kind = static_cast<int>(rng.uniform_int(0, 4));
    const double cell = rng.uniform(8.0, 40.0), line = rng.uniform(1.0, std::max(1.5, cell / 5));
    const double angle = rng.uniform(0.0, kPi), ca = std::cos(angle), sa = std::sin(angle);
    const uint64_t key = rng.next_u64();
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const double u = (x * ca + y * sa) / cell, v = (-x * sa + y * ca) / cell;
            const double fu = u - std::floor(u), fv = v - std::floor(v);
            double t = 0;  // 1 = colour b
            switch (kind) {
                case 0: {  // truchet: quarter arcs, each cell turned at random
                    Rng c(key, static_cast<uint64_t>(std::floor(u) + 4096) * 8192u +
                                   static_cast<uint64_t>(std::floor(v) + 4096));
                    const double gu = c.bernoulli(0.5) ? fu : 1 - fu;
                    const double d = std::min(std::hypot(gu, fv), std::hypot(1 - gu, 1 - fv));
                    t = std::fabs(d - 0.5) * cell < line ? 1 : 0;
                    break;
                }
                case 1:
                    t = std::min(fu, fv) * cell < line ? 1 : 0;
                    break;
                case 2:
                    t = std::hypot(fu - 0.5, fv - 0.5) < 0.3 ? 1 : 0;
                    break;
                case 3:
                    t = fu < 0.5 ? 1 : 0;
                    break;
                default:
                    t = (fu < 0.5) != (fv < 0.5) ? 1 : 0;
            }
            const Rgb c = mix(a, b, static_cast<float>(t));
            px[x] = {c.r, c.g, c.b};
        }
    }
}

// A printed-art mat: a painted scene of overlapping outlined shapes and bright colour fields.
void art_print(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const cv::Mat clouds = fractal_noise(rng, w, h, 2, 5);
    const Rgb sky = random_hsv(rng, hue, {0, 360}, {0.3, 0.8}, {0.3, 0.7});
    const Rgb ground = random_hsv(rng, hue, {0, 360}, {0.3, 0.8}, {0.2, 0.5});
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const Rgb c = mix(sky, ground, smoothstep(0.3f, 0.7f, clouds.at<float>(y, x)));
            px[x] = {c.r, c.g, c.b};
        }
    }
    const int shapes = static_cast<int>(rng.uniform_int(12, 30));
    const double size = std::min(w, h);
    for (int k = 0; k < shapes; ++k) {
        const Rgb c = random_hsv(rng, 0.0, {0, 360}, {0.3, 1.0}, {0.2, 0.95});
        const cv::Scalar colour(c.r, c.g, c.b), ink(20, 20, 25);
        const int cy = static_cast<int>(rng.uniform(0, h));
        const int cx = static_cast<int>(rng.uniform(0, w));
        const cv::Point centre(cx, cy);
        const int r = static_cast<int>(size * rng.uniform(0.03, 0.25));
        std::vector<cv::Point> poly;
        const int n = static_cast<int>(rng.uniform_int(3, 9));
        for (int i = 0; i < n; ++i) {
            const double t = 2 * kPi * i / n + rng.uniform(-0.3, 0.3);
            const double rr = r * rng.uniform(0.5, 1.2);
            poly.emplace_back(centre.x + static_cast<int>(rr * std::cos(t)),
                              centre.y + static_cast<int>(rr * std::sin(t)));
        }
        cv::fillPoly(img, std::vector<std::vector<cv::Point>>{poly}, colour, cv::LINE_AA);
        if (rng.bernoulli(0.6))
            cv::polylines(img, std::vector<std::vector<cv::Point>>{poly}, true, ink,
                          static_cast<int>(rng.uniform_int(1, 3)), cv::LINE_AA);
    }
}

// Photo-like clutter of every scale: independent fractal noise per channel with hard-edged blobs.
void photo(Rng& rng, double hue, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    cv::Mat ch[3];
    for (auto& c : ch) c = fractal_noise(rng, w, h, static_cast<int>(rng.uniform_int(2, 6)), 6);
    const cv::Mat edges = fractal_noise(rng, w, h, 4, 4);
    const double tint_s = rng.uniform(0.2, 0.6);
    const double tint_hue = hue + rng.uniform(0, 360);
    const Rgb tint = hsv(tint_hue, tint_s, 1.0);
    const float threshold = static_cast<float>(rng.uniform(0.4, 0.6));
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const float step = edges.at<float>(y, x) > threshold ? 1.15f : 0.8f;
            px[x] = {tint.r * ch[0].at<float>(y, x) * step, tint.g * ch[1].at<float>(y, x) * step,
                     tint.b * ch[2].at<float>(y, x) * step};
        }
    }
}

// A webcam sees a mat under uneven room light: darker toward the edges, brighter near one side.
void light_falloff(Rng& rng, cv::Mat& img) {
    const int w = img.cols, h = img.rows;
    const double cx = w * rng.uniform(0.3, 0.7), cy = h * rng.uniform(0.3, 0.7);
    const double strength = rng.uniform(0.25, 0.4);
    const double norm = 1.0 / (0.25 * (static_cast<double>(w) * w + static_cast<double>(h) * h));
    const float exposure = static_cast<float>(rng.uniform(0.88, 0.98));
    for (int y = 0; y < h; ++y) {
        auto* px = img.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x) {
            const double d2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) * norm;
            px[x] *= exposure * static_cast<float>(1.0 - strength * std::min(1.0, d2));
        }
    }
}

// Fine grain at full resolution, the same in all channels: triangular noise of about +-4 levels.
void add_grain(Rng& rng, cv::Mat& img) {
    uint64_t bits = 0;
    int left = 0;
    for (int y = 0; y < img.rows; ++y) {
        auto* px = img.ptr<cv::Vec3b>(y);
        for (int x = 0; x < img.cols; ++x) {
            if (left == 0) bits = rng.next_u64(), left = 4;
            const int a = static_cast<int>(bits & 0xff), b = static_cast<int>((bits >> 8) & 0xff);
            bits >>= 16;
            --left;
            const float n = static_cast<float>(a + b - 255) * (4.0f / 255.0f);
            for (int c = 0; c < 3; ++c) px[x][c] = cv::saturate_cast<uint8_t>(px[x][c] + n);
        }
    }
}

std::vector<fs::path> list_images(const std::string& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw InputError("backgrounds directory not found: " + dir);
    if (!fs::is_directory(dir, ec)) throw InputError("backgrounds path is not a directory: " + dir);
    std::vector<fs::path> files;
    fs::directory_iterator it(dir, ec);
    if (ec) throw InputError("cannot read backgrounds directory " + dir + ": " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) throw InputError("cannot read backgrounds directory " + dir + ": " + ec.message());
        const std::string ext = lower(it->path().extension().string());
        if (it->is_regular_file(ec) &&
            (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp"))
            files.push_back(it->path());
    }
    if (files.empty())
        throw InputError("backgrounds directory has no jpg, png or webp image: " + dir);
    std::sort(files.begin(), files.end());
    return files;
}

// A JPEG straight to RGB with TurboJPEG (OpenCV would decode to BGR and we would swap back, two
// passes over a large image); an empty result when the file is no RGB-decodable JPEG, for the
// general path to handle or report. Corrupt data is an error naming the file.
cv::Mat read_jpeg_rgb(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    if (bytes.size() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return {};
    TurboJpeg& tj = TurboJpeg::thread_decompressor();
    JpegHeader header;
    try {
        header = tj.read_header(bytes.data(), bytes.size());
    } catch (const JpegError&) {
        return {};  // OpenCV's turn; it names the file if it cannot decode it either
    }
    if (header.cmyk()) return {};
    try {
        return tj.decompress_rgb(bytes.data(), bytes.size(), header);
    } catch (const JpegError& e) {
        throw InputError("cannot decode background image " + path.string() + ": " + e.what());
    }
}

cv::Mat read_rgb(const fs::path& path) {
    cv::Mat rgb = read_jpeg_rgb(path);
    if (!rgb.empty()) return rgb;
    cv::Mat bgr;
    try {
        bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
    } catch (const cv::Exception&) {
        bgr.release();
    }
    if (bgr.empty()) throw InputError("cannot decode background image " + path.string());
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

// The image at kLevelScales times the smallest scale that covers the frame; every level is at
// least the frame's size, so any integer crop of the frame's size fits.
std::vector<cv::Mat> make_levels(const cv::Mat& image, const FrameConfig& frame) {
    const double cover = std::max(static_cast<double>(frame.width) / image.cols,
                                  static_cast<double>(frame.height) / image.rows);
    std::vector<cv::Mat> levels;
    for (double factor : kLevelScales) {
        const double s = cover * factor;
        const int w = std::max(frame.width, static_cast<int>(std::ceil(image.cols * s - 1e-6)));
        const int h = std::max(frame.height, static_cast<int>(std::ceil(image.rows * s - 1e-6)));
        cv::Mat level;
        if (w == image.cols && h == image.rows) {
            level = image;  // the caller made it for this use alone
        } else {
            level = fresh_image(h, w, image.type());
            resize_image(image, level, cv::Size(w, h));
        }
        if (!level.isContinuous()) level = level.clone();
        levels.push_back(level);
    }
    return levels;
}

}  // namespace

int builtin_playmat_count(const FrameConfig& frame) {
    const double pixels = static_cast<double>(frame.width) * frame.height;
    return kBuiltinPlaymats *
           static_cast<int>(std::clamp(std::floor(1280.0 * 720.0 / pixels), 1.0, 4.0));
}

cv::Mat render_builtin_playmat(int id, int width, int height, double distractor_density,
                               double light_share) {
    if (width <= 0 || height <= 0)
        throw InputError("built-in playmat size must be positive, not " + std::to_string(width) +
                         "x" + std::to_string(height));
    const int kind = ((id % kBuiltinPlaymats) + kBuiltinPlaymats) % kBuiltinPlaymats;
    Rng rng(kPlaymatKey, static_cast<uint64_t>(id));
    // Ids past the first six repeat the textures in other colours.
    const double hue = rng.uniform(-15.0, 15.0) + 67.0 * (id / kBuiltinPlaymats);

    // Textures are drawn at no more than 800 pixels across and scaled up: a webcam shows a mat
    // soft anyway, and it keeps start-up fast at any frame size.
    const int reduce = std::max(1, static_cast<int>(std::ceil(std::max(width, height) / 800.0)));
    const int w = std::max(8, (width + reduce - 1) / reduce);
    const int h = std::max(8, (height + reduce - 1) / reduce);
    cv::Mat work(h, w, CV_32FC3);
    switch (kind) {
        case 0:
            felt(rng, hue, work);
            break;
        case 1:
            wood(rng, 0.3 * hue, work);  // stained wood stays near brown
            break;
        case 2:
            cloth(rng, hue, work);
            break;
        case 3:
            marble(rng, hue, work);
            break;
        case 4:
            printed(rng, hue, work);
            break;
        case 5:
            zones(rng, hue, work);
            break;
        case 6:
            weave(rng, hue, work);
            break;
        case 7:
            leather(rng, 0.3 * hue, work);
            break;
        case 8:
            tiles(rng, hue, work);
            break;
        case 9:
            geometric(rng, hue, work);
            break;
        case 10:
            art_print(rng, hue, work);
            break;
        default:
            photo(rng, hue, work);
            break;
    }
    // A share of the surfaces are light (a white table, pale wood, paper), where white cards
    // stand out by their edges and shadows alone: the texture drawn, then its distance from white
    // shrunk. A stream of its own, so that the share leaves the textures alone.
    Rng tone(kPlaymatKey, static_cast<uint64_t>(id), 2);
    if (tone.uniform() < light_share) {
        const float keep = static_cast<float>(tone.uniform(0.2, 0.55));
        work = cv::Scalar::all(255.0 * (1.0 - keep)) + work * keep;
    }
    // Things on the table that are not cards, painted in before the room light falls on them; a
    // stream of their own, so that the density leaves the texture alone.
    Rng things(kPlaymatKey, static_cast<uint64_t>(id), 1);
    paint_distractors(things, work, distractor_density);
    light_falloff(rng, work);
    // The first six are soft, as a webcam shows cloth; the later ones keep their crisp detail.
    cv::GaussianBlur(work, work, cv::Size(0, 0), kind < 6 ? 0.7 : 0.4);

    // Scaled up in 8 bits, which is cheaper; the grain added after it hides any banding.
    cv::Mat rgb;
    work.convertTo(rgb, CV_8UC3);
    if (w != width || h != height)
        cv::resize(rgb, rgb, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
    add_grain(rng, rgb);
    return rgb;
}

Backgrounds Backgrounds::load(const BackgroundsConfig& config, const FrameConfig& frame) {
    Backgrounds backgrounds;
    std::vector<fs::path> files;
    if (config.dir.empty()) {
        const int n =
            config.builtin_count > 0 ? config.builtin_count : builtin_playmat_count(frame);
        for (int id = 0; id < n; ++id)
            backgrounds.names_.push_back(
                std::string("builtin:") + kBuiltinNames[id % kBuiltinPlaymats] +
                (id < kBuiltinPlaymats ? "" : "-" + std::to_string(id / kBuiltinPlaymats)));
    } else {
        files = list_images(config.dir);
        for (const fs::path& path : files) backgrounds.names_.push_back(path.filename().string());
    }
    const int count = static_cast<int>(backgrounds.names_.size());
    backgrounds.levels_.resize(count);
    // Backgrounds are independent, so they load in parallel; the error reported is that of the
    // first bad file in file order.
    parallel_for(count, 0, [&](int b) {
        const cv::Mat image = files.empty()
                                  ? render_builtin_playmat(b, frame.width, frame.height,
                                                           config.distractors, config.light_share)
                                  : read_rgb(files[b]);
        backgrounds.levels_[b] = make_levels(image, frame);
    });
    return backgrounds;
}

}  // namespace cardsynth
