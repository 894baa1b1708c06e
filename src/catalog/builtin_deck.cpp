#include "catalog/builtin_deck.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "base/rng.h"
#include "base/text.h"

namespace cardsynth {
namespace {

// Keys the deck's random streams, so that card art does not repeat scene randomness.
constexpr uint64_t kDeckSeed = 0xB0117DECC0FFEEULL;
enum Stream : uint64_t { kNameStream = 1, kColourStream, kArtStream, kTextStream };

constexpr int kCornerRadius = 24;

const char* const kAdjectives[] = {
    "Crimson",   "Silent", "Ancient", "Gilded", "Feral",   "Hollow", "Radiant", "Frozen",
    "Wandering", "Iron",   "Verdant", "Shadow", "Storm",   "Ember",  "Tidal",   "Obsidian",
    "Howling",   "Sacred", "Rusted",  "Arcane", "Thorned", "Glass",  "Sunken",  "Wild"};
const char* const kNouns[] = {
    "Dragon",    "Sentinel", "Oracle", "Golem",   "Wyrm",     "Knight",   "Serpent", "Shaman",
    "Phoenix",   "Warden",   "Hydra",  "Specter", "Colossus", "Sprite",   "Titan",   "Drake",
    "Alchemist", "Behemoth", "Lancer", "Mystic",  "Raven",    "Basilisk", "Herald",  "Griffin"};
const char* const kTypes[] = {"Creature", "Sorcery", "Instant", "Artifact", "Enchantment", "Land"};
const char* const kWords[] = {"draw",   "a",     "card",  "target", "creature", "gets",
                              "until",  "end",   "of",    "turn",   "each",     "player",
                              "gain",   "life",  "deals", "damage", "to",       "any",
                              "return", "from",  "your",  "hand",   "exile",    "token",
                              "flying", "untap", "when",  "enters", "the",      "battlefield"};

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

cv::Scalar random_colour(Rng& rng) {
    return hsv(rng.uniform(0.0, 360.0), rng.uniform(0.35, 1.0), rng.uniform(0.3, 1.0));
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
        const cv::Point centre(static_cast<int>(rng.uniform(0, art.cols)),
                               static_cast<int>(rng.uniform(0, art.rows)));
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

}  // namespace

std::string builtin_card_name(int id) {
    Rng rng(kDeckSeed, static_cast<uint64_t>(id), kNameStream);
    const char* adjective = pick(rng, kAdjectives);
    const char* noun = pick(rng, kNouns);
    return format("Builtin %04d %s %s", id, adjective, noun);
}

cv::Mat render_builtin_card(int id) {
    const int w = kBuiltinCardWidth, h = kBuiltinCardHeight;
    const uint64_t key = static_cast<uint64_t>(id);
    Rng colours(kDeckSeed, key, kColourStream);
    // The golden angle spreads the hues of consecutive ids around the wheel.
    const double hue = std::fmod(id * 137.50776405003785 + colours.uniform(0.0, 20.0), 360.0);
    const cv::Scalar frame = hsv(hue, 0.55, 0.8);
    const cv::Scalar frame_light = hsv(hue, 0.2, 0.95);
    const cv::Scalar ink(20, 20, 24, 255);

    // Drawn in place as RGBA: every colour has alpha 255, and the corners are cut at the end.
    cv::Mat card(h, w, CV_8UC4, cv::Scalar(18, 18, 20, 255));  // the dark border
    cv::rectangle(card, cv::Rect(16, 16, w - 32, h - 32), frame, cv::FILLED);

    // Title bar with the card's name.
    const cv::Rect title(30, 30, w - 60, 46);
    cv::rectangle(card, title, frame_light, cv::FILLED);
    cv::rectangle(card, title, ink, 2, cv::LINE_AA);
    put_fitted(card, builtin_card_name(id).substr(8), cv::Point(42, 62), title.width - 24, 0.85,
               ink);

    Rng art(kDeckSeed, key, kArtStream);
    draw_art(card, cv::Rect(40, 86, w - 80, 300), art);

    // Type line.
    Rng text(kDeckSeed, key, kTextStream);
    const cv::Rect type_line(30, 396, w - 60, 40);
    cv::rectangle(card, type_line, frame_light, cv::FILLED);
    cv::rectangle(card, type_line, ink, 2, cv::LINE_AA);
    std::string type = pick(text, kTypes);
    type += std::string(" - ") + pick(text, kNouns);
    put_fitted(card, type, cv::Point(42, 424), type_line.width - 24, 0.7, ink);

    // Text box with a few lines of rules text.
    const cv::Rect text_box(40, 446, w - 80, 170);
    cv::rectangle(card, text_box, cv::Scalar(236, 230, 214, 255), cv::FILLED);
    cv::rectangle(card, text_box, ink, 1, cv::LINE_AA);
    const int lines = static_cast<int>(text.uniform_int(2, 5));
    for (int line = 0; line < lines; ++line) {
        std::string sentence;
        const int words = static_cast<int>(text.uniform_int(4, 7));
        for (int k = 0; k < words; ++k) sentence += std::string(k ? " " : "") + pick(text, kWords);
        put_fitted(card, sentence, cv::Point(54, 476 + line * 30), text_box.width - 28, 0.6, ink,
                   cv::FONT_HERSHEY_SIMPLEX);
    }

    // Collector number in the bottom-left corner, power/toughness box in the other.
    cv::putText(card, format("%04d", id), cv::Point(36, h - 36), cv::FONT_HERSHEY_SIMPLEX, 0.55,
                cv::Scalar(235, 235, 235, 255), 1, cv::LINE_AA);
    const cv::Rect pt(w - 120, h - 66, 84, 34);
    cv::rectangle(card, pt, frame_light, cv::FILLED);
    cv::rectangle(card, pt, ink, 2, cv::LINE_AA);
    const std::string stats =
        std::to_string(text.uniform_int(0, 9)) + "/" + std::to_string(text.uniform_int(1, 9));
    cv::putText(card, stats, cv::Point(pt.x + 20, pt.y + 25), cv::FONT_HERSHEY_DUPLEX, 0.75, ink, 1,
                cv::LINE_AA);

    round_corners(card, kCornerRadius);
    return card;
}

}  // namespace cardsynth
