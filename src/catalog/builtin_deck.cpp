#include "catalog/builtin_deck.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "base/rng.h"
#include "base/text.h"
#include "config/config.h"

namespace cardsynth {
namespace {

// Keys the deck's random streams, so that card art does not repeat scene randomness.
constexpr uint64_t kDeckSeed = 0xB0117DECC0FFEEULL;
// The colour and shape streams are keyed by the card's deck, the others by the card.
enum Stream : uint64_t {
    kNameStream = 1,
    kColourStream,
    kShapeStream = 5,
    kLayoutStream,
    kKindStream
};

constexpr double kTau = 6.283185307179586;

const char* const kAdjectives[] = {
    "Crimson",   "Silent", "Ancient", "Gilded", "Feral",   "Hollow", "Radiant", "Frozen",
    "Wandering", "Iron",   "Verdant", "Shadow", "Storm",   "Ember",  "Tidal",   "Obsidian",
    "Howling",   "Sacred", "Rusted",  "Arcane", "Thorned", "Glass",  "Sunken",  "Wild"};
const char* const kNouns[] = {
    "Dragon",    "Sentinel", "Oracle", "Golem",   "Wyrm",     "Knight",   "Serpent", "Shaman",
    "Phoenix",   "Warden",   "Hydra",  "Specter", "Colossus", "Sprite",   "Titan",   "Drake",
    "Alchemist", "Behemoth", "Lancer", "Mystic",  "Raven",    "Basilisk", "Herald",  "Griffin"};
template <size_t N>
const char* pick(Rng& rng, const char* const (&list)[N]) {
    return list[rng.uniform_int(0, static_cast<int64_t>(N) - 1)];
}

// HSV (h in [0, 360)) to an RGB scalar; the deck is drawn in R, G, B order.
cv::Scalar hsv(double h, double s, double v) {
    const double c = v * s;
    const double hp = std::fmod(h, 360.0) / 60.0;
    const double x = c * (1.0 - std::fabs(std::fmod(hp, 2.0) - 1.0));
    double r = 0, g = 0, b = 0;
    if (hp < 1)
        r = c, g = x;
    else if (hp < 2)
        r = x, g = c;
    else if (hp < 3)
        g = c, b = x;
    else if (hp < 4)
        g = x, b = c;
    else if (hp < 5)
        r = x, b = c;
    else
        r = c, b = x;
    const double m = v - c;
    return cv::Scalar((r + m) * 255.0, (g + m) * 255.0, (b + m) * 255.0, 255.0);
}

// One draw a statement, v first and h last as GCC evaluated hsv's arguments: the order of
// evaluation of a call's arguments is unspecified, and the bytes must not depend on the compiler.
cv::Scalar random_hsv(Rng& rng, double h, Range s, Range v) {
    const double value = rng.uniform(v.lo, v.hi);
    const double saturation = rng.uniform(s.lo, s.hi);
    return hsv(h, saturation, value);
}

cv::Scalar random_hsv(Rng& rng, Range h, Range s, Range v) {
    const double value = rng.uniform(v.lo, v.hi);
    const double saturation = rng.uniform(s.lo, s.hi);
    const double hue = rng.uniform(h.lo, h.hi);
    return hsv(hue, saturation, value);
}

cv::Scalar random_colour(Rng& rng) {
    return random_hsv(rng, Range{0.0, 360.0}, {0.35, 1.0}, {0.3, 1.0});
}

// Text scaled down until it fits `max_width`.
void put_fitted(cv::Mat& img, const std::string& text, cv::Point origin, int max_width,
                double scale, const cv::Scalar& colour, int font = cv::FONT_HERSHEY_DUPLEX) {
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, font, scale, 1, &baseline);
    if (size.width > max_width) scale *= static_cast<double>(max_width) / size.width;
    cv::putText(img, text, origin, font, scale, colour, 1, cv::LINE_AA);
}

void draw_art(cv::Mat& img, const cv::Rect& box, Rng& rng) {
    cv::Mat art = img(box);
    const cv::Scalar top = random_colour(rng), bottom = random_colour(rng);
    for (int y = 0; y < art.rows; ++y) {
        const double t = static_cast<double>(y) / (art.rows - 1);
        const cv::Scalar c = top * (1.0 - t) + bottom * t;
        const cv::Vec4b v(cv::saturate_cast<uint8_t>(c[0]), cv::saturate_cast<uint8_t>(c[1]),
                          cv::saturate_cast<uint8_t>(c[2]), 255);
        cv::Vec4b* row = art.ptr<cv::Vec4b>(y);
        std::fill(row, row + art.cols, v);
    }
    const int shapes = static_cast<int>(rng.uniform_int(4, 9));
    for (int i = 0; i < shapes; ++i) {
        const cv::Scalar colour = random_colour(rng);
        const int y = static_cast<int>(rng.uniform(0, art.rows));
        const int x = static_cast<int>(rng.uniform(0, art.cols));
        const cv::Point centre(x, y);
        const int size = static_cast<int>(rng.uniform(15, 110));
        switch (rng.uniform_int(0, 2)) {
            case 0:
                cv::circle(art, centre, size, colour, cv::FILLED, cv::LINE_AA);
                break;
            case 1: {
                const int corners = static_cast<int>(rng.uniform_int(3, 7));
                const double phase = rng.uniform(0.0, 6.283185307179586);
                std::vector<cv::Point> poly;
                for (int k = 0; k < corners; ++k) {
                    const double a = phase + 6.283185307179586 * k / corners;
                    poly.emplace_back(centre.x + static_cast<int>(size * std::cos(a)),
                                      centre.y + static_cast<int>(size * std::sin(a)));
                }
                cv::fillConvexPoly(art, poly, colour, cv::LINE_AA);
                break;
            }
            default:
                cv::ellipse(art, centre, cv::Size(size, std::max(6, size / 3)),
                            rng.uniform(0.0, 180.0), 0, 360, colour, cv::FILLED, cv::LINE_AA);
        }
    }
    cv::rectangle(art, cv::Rect(0, 0, art.cols, art.rows), cv::Scalar(25, 25, 25, 255), 2);
}

// Writes the coverage of the rounded rectangle into the alpha channel, 4x4 supersampled inside
// the four corner squares (the rest stays opaque).
void round_corners(cv::Mat& rgba, int radius) {
    const int width = rgba.cols, height = rgba.rows;
    for (int cy = 0; cy < 2; ++cy) {
        for (int cx = 0; cx < 2; ++cx) {
            const double ox = cx ? width - radius : radius;  // circle centre
            const double oy = cy ? height - radius : radius;
            const int x0 = cx ? width - radius : 0, y0 = cy ? height - radius : 0;
            for (int y = y0; y < y0 + radius; ++y) {
                for (int x = x0; x < x0 + radius; ++x) {
                    // A pixel whose centre lies farther than half its diagonal from the arc is
                    // wholly on one side: no need to sample it.
                    const double dx = x + 0.5 - ox, dy = y + 0.5 - oy;
                    const double d = std::sqrt(dx * dx + dy * dy);
                    const bool outward = (cx ? dx > 0.5 : dx < -0.5) && (cy ? dy > 0.5 : dy < -0.5);
                    if (d < radius - 0.75 || !(cx ? dx > -0.5 : dx < 0.5) ||
                        !(cy ? dy > -0.5 : dy < 0.5))
                        continue;  // opaque, as drawn
                    if (outward && d > radius + 0.75) {
                        rgba.at<cv::Vec4b>(y, x)[3] = 0;
                        continue;
                    }
                    int inside = 0;
                    for (int sy = 0; sy < 4; ++sy) {
                        for (int sx = 0; sx < 4; ++sx) {
                            const double px = x + (sx + 0.5) / 4.0 - ox;
                            const double py = y + (sy + 0.5) / 4.0 - oy;
                            // Only the quadrant away from the card's centre is rounded.
                            const bool outward_x = cx ? px > 0 : px < 0;
                            const bool outward_y = cy ? py > 0 : py < 0;
                            if (!(outward_x && outward_y) || px * px + py * py <= radius * radius)
                                ++inside;
                        }
                    }
                    rgba.at<cv::Vec4b>(y, x)[3] = static_cast<uint8_t>((inside * 255 + 8) / 16);
                }
            }
        }
    }
}

// What the whole card shares: its palette and border, drawn first, and its layout.
enum class Layout { Pips, Court, Trading, Art };

struct Style {
    cv::Scalar face, ink, accent, border;
    int border_width = 0;  // 0 = none
    Layout layout = Layout::Pips;
    bool foil = false, gloss = false;
};

cv::Scalar rgba(double r, double g, double b) {
    return cv::Scalar(r, g, b, 255);
}

double luma(const cv::Scalar& c) {
    return 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2];
}

uint64_t deck_of(int id) {
    return static_cast<uint64_t>(id / kBuiltinDeckCards);
}

Style draw_style(int id) {
    Rng rng(kDeckSeed, deck_of(id), kColourStream);
    Style st;
    // The golden angle spreads the hues of consecutive decks around the wheel.
    const double hue = std::fmod(
        static_cast<double>(deck_of(id)) * 137.50776405003785 + rng.uniform(0.0, 20.0), 360.0);
    const double face = rng.uniform();
    if (face < 0.45)
        st.face = rgba(250, 250, 248);
    else if (face < 0.65)
        st.face = random_hsv(rng, Range{35, 50}, {0.08, 0.2}, {0.9, 0.98});
    else if (face < 0.85)
        st.face = random_hsv(rng, hue, {0.3, 0.8}, {0.5, 0.95});
    else
        st.face = random_hsv(rng, hue, {0.1, 0.6}, {0.08, 0.25});
    const bool dark = luma(st.face) < 110;
    st.ink = dark ? rgba(235, 235, 230) : rgba(18, 18, 22);
    const double accent_v = dark ? rng.uniform(0.7, 1.0) : rng.uniform(0.45, 0.8);
    const double accent_s = rng.uniform(0.6, 1.0);
    const double accent_h = std::fmod(hue + rng.uniform(90, 270), 360.0);
    st.accent = hsv(accent_h, accent_s, accent_v);
    const double border = rng.uniform();
    st.border_width = border < 0.2   ? 0
                      : border < 0.6 ? static_cast<int>(rng.uniform_int(3, 9))
                                     : static_cast<int>(rng.uniform_int(14, 38));
    const int colour = static_cast<int>(rng.uniform_int(0, 4));
    st.border = colour == 0   ? rgba(14, 14, 16)
                : colour == 1 ? rgba(245, 245, 242)
                : colour == 2 ? hsv(rng.uniform(40, 50), 0.65, 0.8)  // gold
                              : random_colour(rng);
    const double layout = Rng(kDeckSeed, static_cast<uint64_t>(id), kKindStream).uniform();
    st.layout = layout < 0.35   ? Layout::Pips
                : layout < 0.55 ? Layout::Court
                : layout < 0.85 ? Layout::Trading
                                : Layout::Art;
    st.foil = rng.bernoulli(0.1);
    st.gloss = !st.foil && rng.bernoulli(0.15);
    return st;
}

// A suit-like symbol of about `size` pixels: heart, diamond, spade, club, star, circle, triangle,
// cross or crescent-like ring, pointing up (or down when `flip`).
void draw_symbol(cv::Mat& img, int kind, cv::Point2d c, double size, const cv::Scalar& colour,
                 bool flip) {
    const double r = size / 2, d = flip ? -1.0 : 1.0;
    auto pt = [&](double x, double y) {
        return cv::Point(static_cast<int>(std::lround((c.x + x * d) * 16)),
                         static_cast<int>(std::lround((c.y + y * d) * 16)));
    };
    auto disc = [&](double x, double y, double rr) {
        cv::circle(img, pt(x, y), static_cast<int>(rr * 16), colour, cv::FILLED, cv::LINE_AA, 4);
    };
    auto poly = [&](std::initializer_list<std::pair<double, double>> xy) {
        std::vector<cv::Point> p;
        for (auto [x, y] : xy) p.push_back(pt(x, y));
        cv::fillConvexPoly(img, p, colour, cv::LINE_AA, 4);
    };
    switch (kind % 9) {
        case 0:  // heart
            disc(-0.45 * r, -0.35 * r, 0.52 * r), disc(0.45 * r, -0.35 * r, 0.52 * r);
            poly({{-0.95 * r, -0.2 * r}, {0.95 * r, -0.2 * r}, {0, r}});
            break;
        case 1:  // diamond
            poly({{0, -r}, {0.7 * r, 0}, {0, r}, {-0.7 * r, 0}});
            break;
        case 2:  // spade
            disc(-0.45 * r, 0.25 * r, 0.5 * r), disc(0.45 * r, 0.25 * r, 0.5 * r);
            poly({{-0.93 * r, 0.15 * r}, {0.93 * r, 0.15 * r}, {0, -r}});
            poly({{0, 0.2 * r}, {0.35 * r, r}, {-0.35 * r, r}});
            break;
        case 3:  // club
            disc(0, -0.45 * r, 0.42 * r), disc(-0.48 * r, 0.15 * r, 0.42 * r);
            disc(0.48 * r, 0.15 * r, 0.42 * r);
            poly({{0, 0}, {0.35 * r, r}, {-0.35 * r, r}});
            break;
        case 4: {  // star
            std::vector<cv::Point> p;
            for (int k = 0; k < 10; ++k) {
                const double a = -kTau / 4 + kTau * k / 10, rr = k % 2 ? 0.42 * r : r;
                p.push_back(pt(rr * std::cos(a), rr * std::sin(a)));
            }
            cv::fillPoly(img, std::vector<std::vector<cv::Point>>{p}, colour, cv::LINE_AA, 4);
            break;
        }
        case 5:
            disc(0, 0, 0.8 * r);
            break;
        case 6:
            poly({{0, -r}, {0.9 * r, 0.75 * r}, {-0.9 * r, 0.75 * r}});
            break;
        case 7:  // cross
            poly({{-0.25 * r, -r}, {0.25 * r, -r}, {0.25 * r, r}, {-0.25 * r, r}});
            poly({{-r, -0.25 * r}, {r, -0.25 * r}, {r, 0.25 * r}, {-r, 0.25 * r}});
            break;
        default:
            cv::circle(img, pt(0, 0), static_cast<int>(0.7 * r * 16), colour,
                       std::max(1, static_cast<int>(0.25 * r)), cv::LINE_AA, 4);
    }
}

const char* const kRanks[] = {"A", "2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K"};

// Rank and suit in the top-left corner, and the same turned 180 degrees in the bottom-right.
void draw_indices(cv::Mat& card, const std::string& rank, int suit, const cv::Scalar& colour,
                  int inset, double scale) {
    const int font = cv::FONT_HERSHEY_DUPLEX;
    int baseline = 0;
    const int thick = std::max(1, static_cast<int>(scale * 1.6));
    const cv::Size size = cv::getTextSize(rank, font, scale, thick, &baseline);
    cv::Mat corner(size.height * 3, std::max(size.width, size.height) + 4, card.type());
    corner.setTo(cv::Scalar(0, 0, 0, 0));
    cv::putText(corner, rank, cv::Point((corner.cols - size.width) / 2, size.height + 2), font,
                scale, colour, thick, cv::LINE_AA);
    draw_symbol(corner, suit, cv::Point2d(corner.cols / 2.0, size.height * 2.1), size.height * 1.1,
                colour, false);
    auto stamp = [&](const cv::Mat& piece, int x, int y) {
        const cv::Rect r =
            cv::Rect(x, y, piece.cols, piece.rows) & cv::Rect(0, 0, card.cols, card.rows);
        for (int yy = r.y; yy < r.y + r.height; ++yy) {
            const cv::Vec4b* src = piece.ptr<cv::Vec4b>(yy - y);
            cv::Vec4b* dst = card.ptr<cv::Vec4b>(yy);
            for (int xx = r.x; xx < r.x + r.width; ++xx) {
                const int a = src[xx - x][3];
                for (int c = 0; c < 3; ++c)
                    dst[xx][c] = static_cast<uint8_t>(
                        std::min(255, src[xx - x][c] + (dst[xx][c] * (255 - a) + 127) / 255));
            }
        }
    };
    // Drawn on transparent black, the glyphs' colours come out premultiplied by their coverage.
    stamp(corner, inset, inset);
    cv::Mat turned;
    cv::rotate(corner, turned, cv::ROTATE_180);
    stamp(turned, card.cols - inset - turned.cols, card.rows - inset - turned.rows);
}

// Pip positions of a playing card (1..10) in the unit square of the pip area; mirrored layouts.
std::vector<cv::Point2d> pip_positions(int n) {
    static const std::vector<std::vector<cv::Point2d>> kPips = {
        {{0.5, 0.5}},
        {{0.5, 0}, {0.5, 1}},
        {{0.5, 0}, {0.5, 0.5}, {0.5, 1}},
        {{0, 0}, {1, 0}, {0, 1}, {1, 1}},
        {{0, 0}, {1, 0}, {0.5, 0.5}, {0, 1}, {1, 1}},
        {{0, 0}, {1, 0}, {0, 0.5}, {1, 0.5}, {0, 1}, {1, 1}},
        {{0, 0}, {1, 0}, {0.5, 0.25}, {0, 0.5}, {1, 0.5}, {0, 1}, {1, 1}},
        {{0, 0}, {1, 0}, {0.5, 0.25}, {0, 0.5}, {1, 0.5}, {0.5, 0.75}, {0, 1}, {1, 1}},
        {{0, 0},
         {1, 0},
         {0, 1.0 / 3},
         {1, 1.0 / 3},
         {0.5, 0.5},
         {0, 2.0 / 3},
         {1, 2.0 / 3},
         {0, 1},
         {1, 1}},
        {{0, 0},
         {1, 0},
         {0.5, 1.0 / 6},
         {0, 1.0 / 3},
         {1, 1.0 / 3},
         {0, 2.0 / 3},
         {1, 2.0 / 3},
         {0.5, 5.0 / 6},
         {0, 1},
         {1, 1}}};
    return kPips[static_cast<size_t>(std::clamp(n, 1, 10) - 1)];
}

void draw_pips(cv::Mat& card, const cv::Rect& area, const Style& st, Rng& rng) {
    const int n = static_cast<int>(rng.uniform_int(1, 10));
    const int suit = static_cast<int>(rng.uniform_int(0, 8));
    const cv::Scalar colour = rng.bernoulli(0.5) ? st.ink : st.accent;
    const double size =
        n == 1 ? area.width * rng.uniform(0.35, 0.6) : area.width * rng.uniform(0.17, 0.24);
    const double mx = size * 0.6, my = size * 0.6;
    for (const cv::Point2d& p : pip_positions(n)) {
        const cv::Point2d c(area.x + mx + p.x * (area.width - 2 * mx),
                            area.y + my + p.y * (area.height - 2 * my));
        draw_symbol(card, suit, c, size, colour, p.y > 0.5);
    }
    draw_indices(card, kRanks[n == 1 ? 0 : n - 1], suit, colour, std::max(10, card.cols / 28),
                 rng.uniform(0.9, 1.5));
}

// A portrait-like figure: head, shoulders, a hat or crown, an emblem, framed; drawn in the top
// half and turned 180 degrees into the bottom, as court cards are.
void draw_court(cv::Mat& card, const cv::Rect& area, const Style& st, Rng& rng) {
    const cv::Rect top(area.x, area.y, area.width, area.height / 2);
    cv::Mat half = card(top);
    const cv::Scalar robe = random_colour(rng), trim = random_colour(rng);
    const cv::Scalar skin = random_hsv(rng, Range{20, 35}, {0.25, 0.6}, {0.55, 0.95});
    const double w = top.width, h = top.height;
    cv::rectangle(half, cv::Rect(0, 0, top.width, top.height),
                  random_colour(rng) * 0.3 + st.face * 0.7, cv::FILLED);
    const cv::Point head(static_cast<int>(w * rng.uniform(0.4, 0.6)), static_cast<int>(h * 0.38));
    const int hr = static_cast<int>(h * rng.uniform(0.14, 0.2));
    cv::ellipse(half, cv::Point(head.x, static_cast<int>(h)),
                cv::Size(static_cast<int>(w * 0.42), static_cast<int>(h * 0.5)), 0, 180, 360, robe,
                cv::FILLED, cv::LINE_AA);
    for (int k = 0; k < 5; ++k)
        cv::line(half, cv::Point(static_cast<int>(w * (0.15 + 0.17 * k)), static_cast<int>(h)),
                 cv::Point(head.x, static_cast<int>(h * 0.62)), trim, 2 + k % 2, cv::LINE_AA);
    cv::circle(half, head, hr, skin, cv::FILLED, cv::LINE_AA);
    cv::circle(half, head + cv::Point(-hr / 3, -hr / 6), std::max(2, hr / 8), st.ink, cv::FILLED,
               cv::LINE_AA);
    cv::circle(half, head + cv::Point(hr / 3, -hr / 6), std::max(2, hr / 8), st.ink, cv::FILLED,
               cv::LINE_AA);
    cv::ellipse(half, head + cv::Point(0, hr / 3), cv::Size(hr / 3, hr / 6), 0, 0, 180, st.ink, 2,
                cv::LINE_AA);
    std::vector<cv::Point> crown;
    for (int k = 0; k <= 6; ++k)
        crown.emplace_back(head.x - hr + k * hr / 3, head.y - hr - (k % 2 ? hr / 2 : hr));
    crown.emplace_back(head.x + hr, head.y - hr * 3 / 4);
    crown.emplace_back(head.x - hr, head.y - hr * 3 / 4);
    cv::fillPoly(half, std::vector<std::vector<cv::Point>>{crown}, trim, cv::LINE_AA);
    draw_symbol(half, static_cast<int>(rng.uniform_int(0, 8)), cv::Point2d(w * 0.18, h * 0.75),
                w * 0.14, st.accent, false);
    cv::Mat bottom =
        card(cv::Rect(area.x, area.y + area.height - top.height, top.width, top.height));
    cv::rotate(half, bottom, cv::ROTATE_180);
    cv::line(card, cv::Point(area.x, area.y + area.height / 2),
             cv::Point(area.x + area.width, area.y + area.height / 2), st.ink, 2, cv::LINE_AA);
    cv::rectangle(card, area, st.ink, std::max(1, card.cols / 120), cv::LINE_AA);
    const double scale = rng.uniform(0.9, 1.4);
    const int suit = static_cast<int>(rng.uniform_int(0, 8));
    const char* const rank = kRanks[rng.uniform_int(10, 12)];
    draw_indices(card, rank, suit, st.ink, std::max(8, card.cols / 30), scale);
}

// Noise-based art: a few octaves of value noise mapped through a two-colour ramp.
void noise_art(cv::Mat& art, Rng& rng) {
    const int cols = static_cast<int>(rng.uniform_int(3, 8));
    const int rows = static_cast<int>(rng.uniform_int(3, 8));
    cv::Mat grid(rows, cols, CV_32F);
    for (int y = 0; y < grid.rows; ++y)
        for (int x = 0; x < grid.cols; ++x)
            grid.at<float>(y, x) = static_cast<float>(rng.uniform());
    cv::Mat fine(grid.rows * 4, grid.cols * 4, CV_32F);
    for (int y = 0; y < fine.rows; ++y)
        for (int x = 0; x < fine.cols; ++x)
            fine.at<float>(y, x) = static_cast<float>(rng.uniform());
    cv::Mat a, b;
    cv::resize(grid, a, art.size(), 0, 0, cv::INTER_CUBIC);
    cv::resize(fine, b, art.size(), 0, 0, cv::INTER_LINEAR);
    const cv::Scalar c0 = random_colour(rng), c1 = random_colour(rng), c2 = random_colour(rng);
    // A three-colour ramp, tabulated: the noise picks an entry per pixel.
    cv::Vec4b ramp[256];
    for (int i = 0; i < 256; ++i) {
        const double t = i / 255.0;
        const cv::Scalar c =
            t < 0.5 ? c0 * (1 - 2 * t) + c1 * (2 * t) : c1 * (2 - 2 * t) + c2 * (2 * t - 1);
        ramp[i] = cv::Vec4b(cv::saturate_cast<uint8_t>(c[0]), cv::saturate_cast<uint8_t>(c[1]),
                            cv::saturate_cast<uint8_t>(c[2]), 255);
    }
    for (int y = 0; y < art.rows; ++y) {
        cv::Vec4b* row = art.ptr<cv::Vec4b>(y);
        const float* pa = a.ptr<float>(y);
        const float* pb = b.ptr<float>(y);
        for (int x = 0; x < art.cols; ++x) {
            const float t = std::clamp(0.75f * pa[x] + 0.25f * pb[x], 0.0f, 1.0f);
            row[x] = ramp[static_cast<int>(t * 255.0f + 0.5f)];
        }
    }
}

// Lines of glyph-like text: words of random letters at one size per block.
void glyph_lines(cv::Mat& card, const cv::Rect& box, const cv::Scalar& ink, Rng& rng) {
    const double scale = rng.uniform(0.35, 0.75);
    const int font = rng.bernoulli(0.5) ? cv::FONT_HERSHEY_SIMPLEX : cv::FONT_HERSHEY_PLAIN;
    const double fscale = font == cv::FONT_HERSHEY_PLAIN ? scale * 1.9 : scale;
    int baseline = 0;
    const int line_h = cv::getTextSize("Hg", font, fscale, 1, &baseline).height * 17 / 10 + 2;
    for (int y = box.y + line_h; y < box.y + box.height - 4; y += line_h) {
        std::string text;
        while (text.size() < 60) {
            const int len = static_cast<int>(rng.uniform_int(1, 8));
            for (int k = 0; k < len; ++k) {
                const char first = rng.bernoulli(0.1) ? 'A' : 'a';
                const int64_t letter = rng.uniform_int(0, 25);
                text += static_cast<char>(first + letter);
            }
            text += ' ';
        }
        const int width =
            static_cast<int>(box.width * (rng.bernoulli(0.25) ? rng.uniform(0.4, 0.9) : 1.0));
        // Cut to the width from the mean glyph width, then trim the last few glyphs exactly.
        const int full = cv::getTextSize(text, font, fscale, 1, &baseline).width;
        size_t n = std::min(
            text.size(),
            static_cast<size_t>(std::max(1.0, (width - 12.0) * text.size() / std::max(1, full))));
        while (n > 1 &&
               cv::getTextSize(text.substr(0, n), font, fscale, 1, &baseline).width > width - 12)
            --n;
        cv::putText(card, text.substr(0, n), cv::Point(box.x + 6, y), font, fscale, ink, 1,
                    cv::LINE_AA);
    }
}

void draw_trading(cv::Mat& card, const cv::Rect& area, const Style& st, int id, Rng& rng) {
    const cv::Scalar light = st.face * 0.4 + rgba(255, 255, 255) * 0.6;
    const int w = area.width, h = area.height;
    const int bar = static_cast<int>(h * rng.uniform(0.06, 0.09));
    const cv::Rect title(area.x, area.y, w, bar);
    cv::rectangle(card, title, light, cv::FILLED);
    cv::rectangle(card, title, st.ink, 2, cv::LINE_AA);
    put_fitted(card, builtin_card_name(id).substr(13),
               cv::Point(title.x + 8, title.y + bar * 3 / 4), w - 16 - bar, bar / 40.0,
               rgba(18, 18, 22));
    for (int k = 0; k < static_cast<int>(rng.uniform_int(0, 4)); ++k) {
        const cv::Scalar colour = random_colour(rng);
        const int kind = static_cast<int>(rng.uniform_int(0, 8));
        draw_symbol(card, kind, cv::Point2d(title.x + w - bar * (k + 0.6), title.y + bar / 2.0),
                    bar * 0.6, colour, false);
    }
    const int art_h = static_cast<int>(h * rng.uniform(0.38, 0.5));
    const cv::Rect art(area.x + w / 20, title.y + bar + 6, w - w / 10, art_h);
    cv::Mat art_img = card(art);
    if (rng.bernoulli(0.5))
        noise_art(art_img, rng);
    else
        draw_art(card, art, rng);
    cv::rectangle(card, art, st.ink, 2, cv::LINE_AA);
    const cv::Rect type(area.x, art.y + art.height + 6, w, bar * 8 / 10);
    cv::rectangle(card, type, light, cv::FILLED);
    cv::rectangle(card, type, st.ink, 2, cv::LINE_AA);
    glyph_lines(card, cv::Rect(type.x, type.y - type.height / 4, type.width * 3 / 4, type.height),
                rgba(18, 18, 22), rng);
    const cv::Rect text(area.x + w / 24, type.y + type.height + 6, w - w / 12,
                        area.y + h - (type.y + type.height + 6));
    if (text.height > 20) {
        const cv::Scalar paper = rng.bernoulli(0.6) ? rgba(236, 230, 214) : light;
        cv::rectangle(card, text, paper, cv::FILLED);
        cv::rectangle(card, text, st.ink, 1, cv::LINE_AA);
        glyph_lines(card, cv::Rect(text.x, text.y, text.width, text.height - bar), rgba(18, 18, 22),
                    rng);
        const cv::Rect pt(text.x + text.width - bar * 2, text.y + text.height - bar, bar * 2, bar);
        cv::rectangle(card, pt, light, cv::FILLED);
        cv::rectangle(card, pt, st.ink, 2, cv::LINE_AA);
        const int toughness = static_cast<int>(rng.uniform_int(1, 9));
        const int power = static_cast<int>(rng.uniform_int(0, 9));
        put_fitted(card, format("%d/%d", power, toughness),
                   cv::Point(pt.x + bar / 3, pt.y + bar * 3 / 4), pt.width - bar / 2, bar / 40.0,
                   rgba(18, 18, 22));
    }
}

void draw_art_card(cv::Mat& card, const cv::Rect& area, const Style& st, int id, Rng& rng) {
    const int strip = static_cast<int>(area.height * rng.uniform(0.08, 0.13));
    const cv::Rect art(area.x, area.y, area.width, area.height - strip - 4);
    cv::Mat art_img = card(art);
    noise_art(art_img, rng);
    draw_art(card,
             cv::Rect(art.x + art.width / 6, art.y + art.height / 6, art.width * 2 / 3,
                      art.height * 2 / 3),
             rng);
    cv::rectangle(card, art, st.accent, std::max(2, area.width / 60), cv::LINE_AA);
    const cv::Rect label(area.x, area.y + area.height - strip, area.width, strip);
    cv::rectangle(card, label, st.face * 0.5 + st.accent * 0.5, cv::FILLED);
    put_fitted(card, builtin_card_name(id).substr(13),
               cv::Point(label.x + 10, label.y + strip * 3 / 4), label.width - 20, strip / 38.0,
               st.ink, cv::FONT_HERSHEY_COMPLEX);
    cv::putText(card, kRanks[rng.uniform_int(0, 12)], cv::Point(area.x + 8, area.y + strip),
                cv::FONT_HERSHEY_TRIPLEX, strip / 30.0, st.ink, 2, cv::LINE_AA);
}

// Foil: a rainbow sheen across the face; gloss: a soft white band, as a lamp on a laminate.
void draw_finish(cv::Mat& card, const Style& st, Rng& rng) {
    if (!st.foil && !st.gloss) return;
    const double angle = rng.uniform(0.0, kTau), dx = std::cos(angle), dy = std::sin(angle);
    const double period = card.cols * rng.uniform(0.4, 1.2), offset = rng.uniform(0.0, 1.0);
    const double strength = st.foil ? rng.uniform(0.15, 0.3) : rng.uniform(0.2, 0.45);
    // The sheen repeats along (dx, dy) with `period`: tabulate one period, 256 steps.
    constexpr int kSteps = 256;
    float keep[kSteps], add[kSteps][3];
    for (int i = 0; i < kSteps; ++i) {
        const double t = static_cast<double>(i) / kSteps;
        double k = strength;
        cv::Scalar colour = rgba(255, 255, 255);
        if (st.foil) {
            colour = hsv(t * 360.0, 0.7, 1.0);
        } else {
            const double band = std::sin(t * kTau * 0.5);
            k *= std::pow(band * band, 6);
        }
        keep[i] = static_cast<float>(1 - k);
        for (int c = 0; c < 3; ++c) add[i][c] = static_cast<float>(colour[c] * k);
    }
    for (int y = 0; y < card.rows; ++y) {
        cv::Vec4b* row = card.ptr<cv::Vec4b>(y);
        for (int x = 0; x < card.cols; ++x) {
            const double t = (x * dx + y * dy) / period + offset;
            const int i = static_cast<int>((t - std::floor(t)) * kSteps) & (kSteps - 1);
            for (int c = 0; c < 3; ++c)
                row[x][c] = static_cast<uint8_t>(row[x][c] * keep[i] + add[i][c] + 0.5f);
        }
    }
}

}  // namespace

BuiltinCardShape builtin_card_shape(int id) {
    Rng rng(kDeckSeed, deck_of(id), kShapeStream);
    // Half the cards take a common format (bridge, poker, trading card, tarot-like), half any.
    static const double kFormats[] = {0.625, 0.645, 0.667, 0.714, 0.716, 0.75};
    const double aspect =
        rng.bernoulli(0.5) ? kFormats[rng.uniform_int(0, 5)] : rng.uniform(0.62, 0.76);
    BuiltinCardShape shape;
    shape.height = kBuiltinCardHeight;
    shape.width = static_cast<int>(std::lround(kBuiltinCardHeight * aspect));
    const double round = rng.uniform();
    shape.corner_fraction = round < 0.15   ? 0.0
                            : round < 0.55 ? rng.uniform(0.02, 0.05)
                            : round < 0.85 ? rng.uniform(0.05, 0.09)
                                           : rng.uniform(0.09, 0.15);
    return shape;
}

std::string builtin_card_name(int id) {
    Rng rng(kDeckSeed, static_cast<uint64_t>(id), kNameStream);
    const char* adjective = pick(rng, kAdjectives);
    const char* noun = pick(rng, kNouns);
    return format("Builtin %04d %s %s", id, adjective, noun);
}

cv::Mat render_builtin_card(int id) {
    const BuiltinCardShape shape = builtin_card_shape(id);
    const int w = shape.width, h = shape.height;
    const Style st = draw_style(id);
    Rng rng(kDeckSeed, static_cast<uint64_t>(id), kLayoutStream);
    // Drawn in place as RGBA: every colour has alpha 255, and the corners are cut at the end.
    // setTo, not the constructor's fill: OpenCV's Mat = Scalar takes a slow path for four
    // 8-bit channels, milliseconds for a card.
    cv::Mat card(h, w, CV_8UC4);
    card.setTo(st.border_width > 0 ? st.border : st.face);
    const int b = st.border_width;
    if (b > 0) cv::rectangle(card, cv::Rect(b, b, w - 2 * b, h - 2 * b), st.face, cv::FILLED);
    if (b > 0 && rng.bernoulli(0.4))  // an inner rule inside thick borders
        cv::rectangle(card, cv::Rect(b + 4, b + 4, w - 2 * b - 8, h - 2 * b - 8), st.accent, 2,
                      cv::LINE_AA);
    const int margin = b + std::max(10, static_cast<int>(w * rng.uniform(0.03, 0.07)));
    switch (st.layout) {
        case Layout::Pips: {
            const int side = static_cast<int>(w * 0.16);
            draw_pips(card,
                      cv::Rect(margin + side / 2, margin + side / 3, w - 2 * margin - side,
                               h - 2 * margin - side * 2 / 3),
                      st, rng);
            break;
        }
        case Layout::Court: {
            const int side = static_cast<int>(w * 0.14);
            draw_court(card,
                       cv::Rect(margin + side / 2, margin + side / 2, w - 2 * margin - side,
                                h - 2 * margin - side),
                       st, rng);
            break;
        }
        case Layout::Trading:
            draw_trading(card, cv::Rect(margin, margin, w - 2 * margin, h - 2 * margin), st, id,
                         rng);
            break;
        case Layout::Art:
            draw_art_card(card, cv::Rect(margin, margin, w - 2 * margin, h - 2 * margin), st, id,
                          rng);
            break;
    }
    draw_finish(card, st, rng);
    const int radius = static_cast<int>(std::lround(shape.corner_fraction * w));
    if (radius > 0) round_corners(card, radius);
    return card;
}

}  // namespace cardsynth
