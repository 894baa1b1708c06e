#include "scene/scene.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "base/rng.h"
#include "catalog/builtin_deck.h"

namespace cardsynth {
namespace {

// Streams of the per-image generator: layout draws and effect draws never shift each other, so
// turning an effect on does not move the cards.
constexpr uint64_t kLayoutStream = 0;
constexpr uint64_t kEffectsStream = 1;
constexpr uint64_t kCameraStream = 2;
constexpr uint64_t kOccluderStream = 3;  // kOccluderPaintStream (scene.h) paints them

constexpr double kPi = 3.14159265358979323846;
// Placement tries per card under overlap: avoid before the frame counts as full.
constexpr int kAvoidTries = 40;

// Pose of a card of size (w, h) centred at (cx, cy), turned by `angle` radians, tilted by the
// projective terms (gx, gy) about its centre.
Mat3 card_pose(float w, float h, float cx, float cy, double angle, float gx, float gy) {
    const Mat3 centre = mat3_translate(-w / 2, -h / 2);
    const Mat3 tilt{{1, 0, 0, 0, 1, 0, gx, gy, 1}};
    const Mat3 turn =
        mat3_rotate(static_cast<float>(std::cos(angle)), static_cast<float>(std::sin(angle)));
    return mat3_mul(mat3_translate(cx, cy), mat3_mul(turn, mat3_mul(tilt, centre)));
}

// Whether two convex quads overlap (separating axis test over their edges' normals).
bool quads_overlap(const Vec2 a[4], const Vec2 b[4]) {
    const Vec2* polys[2] = {a, b};
    for (const Vec2* p : polys) {
        for (int i = 0; i < 4; ++i) {
            const Vec2 e{p[(i + 1) % 4].x - p[i].x, p[(i + 1) % 4].y - p[i].y};
            const float nx = -e.y, ny = e.x;
            float amin = 1e30f, amax = -1e30f, bmin = 1e30f, bmax = -1e30f;
            for (int k = 0; k < 4; ++k) {
                const float pa = a[k].x * nx + a[k].y * ny, pb = b[k].x * nx + b[k].y * ny;
                amin = std::min(amin, pa), amax = std::max(amax, pa);
                bmin = std::min(bmin, pb), bmax = std::max(bmax, pb);
            }
            if (amax < bmin || bmax < amin) return false;
        }
    }
    return true;
}

// Width over height of a card as drawn: a built-in card has its own, which its catalog entry (one
// nominal size for the whole deck) does not carry.
double card_aspect(const Card& card) {
    if (card.builtin_id >= 0) {
        const BuiltinCardShape shape = builtin_card_shape(card.builtin_id);
        return static_cast<double>(shape.width) / shape.height;
    }
    return static_cast<double>(card.width) / std::max(1, card.height);
}

// Corner radius in card units: the configured one, or a built-in card's own where it is rounder
// (its texture bakes its corners in, and the labels must cut the same ones).
float corner_radius(double configured, const Card& card, float width) {
    double fraction = configured;
    if (card.builtin_id >= 0)
        fraction = std::max(fraction, builtin_card_shape(card.builtin_id).corner_fraction);
    return static_cast<float>(fraction) * width;
}

// Blur sigma in frame pixels: absolute, plus a fraction of the card's height when configured (a
// draw made only then, so that the default leaves every other draw where it was).
float blur_sigma(const SceneConfig& sc, float card_height, Rng& rng) {
    double sigma = rng.uniform(sc.blur_sigma.lo, sc.blur_sigma.hi);
    if (sc.blur_fraction.hi > 0)
        sigma += rng.uniform(sc.blur_fraction.lo, sc.blur_fraction.hi) * card_height;
    return static_cast<float>(sigma);
}

CardPlacement place_random_card(const SceneConfig& sc, double corner, const Card& card, int32_t id,
                                int width, int height, Rng& rng) {
    CardPlacement p;
    p.card_id = id;
    const double aspect = card_aspect(card);
    p.height = static_cast<float>(rng.uniform(sc.card_height.lo, sc.card_height.hi));
    p.width = static_cast<float>(p.height * aspect);
    const double angle = rng.uniform(sc.rotation_deg.lo, sc.rotation_deg.hi) * kPi / 180.0;
    const float cx = static_cast<float>(rng.uniform(0.0, width));
    const float cy = static_cast<float>(rng.uniform(0.0, height));
    // Tilt: the near edge grows by up to 25% at perspective 1, the far edge shrinks alike.
    float gx = 0, gy = 0;
    if (sc.perspective > 0) {
        gx = static_cast<float>(rng.uniform(-1.0, 1.0) * sc.perspective * 0.25 / (p.width / 2));
        gy = static_cast<float>(rng.uniform(-1.0, 1.0) * sc.perspective * 0.25 / (p.height / 2));
    }
    p.pose = card_pose(p.width, p.height, cx, cy, angle, gx, gy);
    p.blur_sigma = blur_sigma(sc, p.height, rng);
    p.corner_radius = corner_radius(corner, card, p.width);
    return p;
}

// A card id by popularity. The uniforms are drawn one statement at a time: the order in which
// a compiler evaluates a call's arguments is unspecified, and the scenes must not depend on it.
int32_t draw_card(const Catalog& catalog, Rng& rng) {
    const double coin = rng.uniform();
    const double column = rng.uniform();
    return catalog.sample(column, coin);
}

// A frame's cards: by popularity, except that under scene.same_deck a card after the first is,
// that share of the time, a card of the first one's built-in deck (uniform within the deck).
class CardDrawer {
  public:
    CardDrawer(const Catalog& catalog, double same_deck) : catalog_(catalog), same_(same_deck) {}

    int32_t next(Rng& rng) {
        const int32_t id = draw_card(catalog_, rng);
        if (same_ <= 0) return id;  // no further draws: without the key the layouts stay put
        const double coin = rng.uniform();
        const int64_t pick = rng.uniform_int(0, kBuiltinDeckCards - 1);
        if (first_ < 0) first_ = id;
        const int builtin = catalog_.cards()[first_].builtin_id;
        if (id == first_ || builtin < 0 || coin >= same_) return id;
        // The built-in catalog keeps id order, less any cards a popularity range dropped: a mate
        // missing from the catalog leaves the drawn card.
        const int64_t mate = builtin / kBuiltinDeckCards * kBuiltinDeckCards + pick;
        const int64_t index = first_ + (mate - builtin);
        if (index < 0 || index >= static_cast<int64_t>(catalog_.size())) return id;
        return catalog_.cards()[index].builtin_id == mate ? static_cast<int32_t>(index) : id;
    }

  private:
    const Catalog& catalog_;
    double same_;
    int32_t first_ = -1;
};

void compose_random(const Config& config, const Catalog& catalog, Rng& rng, SceneSpec& s) {
    const SceneConfig& sc = config.scene;
    const int n = static_cast<int>(rng.uniform_int(sc.min_cards, sc.max_cards));
    std::vector<std::array<Vec2, 4>> placed;
    CardDrawer drawer(catalog, sc.same_deck);
    for (int k = 0; k < n; ++k) {
        const int32_t id = drawer.next(rng);
        const Card& card = catalog.cards()[id];
        if (sc.overlap == Overlap::Allow) {
            s.cards.push_back(place_random_card(sc, config.cards.corner_radius, card, id, s.width,
                                                s.height, rng));
            continue;
        }
        bool fits = false;
        for (int attempt = 0; attempt < kAvoidTries && !fits; ++attempt) {
            CardPlacement p =
                place_random_card(sc, config.cards.corner_radius, card, id, s.width, s.height, rng);
            std::array<Vec2, 4> q;
            card_corners(p, q.data());
            fits = std::none_of(placed.begin(), placed.end(), [&](const std::array<Vec2, 4>& o) {
                return quads_overlap(q.data(), o.data());
            });
            if (fits) {
                placed.push_back(q);
                s.cards.push_back(p);
            }
        }
        if (!fits) break;  // the frame is full: fewer cards rather than overlaps
    }
}

// A game table seen through a tilted camera: a row of lands, a row of creatures with some tapped,
// a library pile and a fanned hand along the bottom edge.
void compose_table(const Config& config, const Catalog& catalog, Rng& rng, SceneSpec& s) {
    const SceneConfig& sc = config.scene;
    const int limit = sc.max_cards;
    const float W = static_cast<float>(s.width), H = static_cast<float>(s.height);
    const float base_h = static_cast<float>(rng.uniform(sc.card_height.lo, sc.card_height.hi));
    // The camera: a mild keystone shared by the whole table, plus a small roll.
    const float tilt = static_cast<float>(sc.perspective * 0.35 / H);
    const double roll = rng.uniform(-3.0, 3.0) * kPi / 180.0;
    const Mat3 camera = mat3_mul(mat3_translate(W / 2, H / 2),
                                 mat3_mul(Mat3{{1, 0, 0, 0, 1, 0, 0, -tilt, 1}},
                                          mat3_mul(mat3_rotate(static_cast<float>(std::cos(roll)),
                                                               static_cast<float>(std::sin(roll))),
                                                   mat3_translate(-W / 2, -H / 2))));
    CardDrawer drawer(catalog, sc.same_deck);
    auto add = [&](float cx, float cy, float card_h, double angle) {
        if (static_cast<int>(s.cards.size()) >= limit) return;
        CardPlacement p;
        p.card_id = drawer.next(rng);
        const Card& card = catalog.cards()[p.card_id];
        p.height = card_h;
        p.width = card.builtin_id >= 0
                      ? card_h * static_cast<float>(card_aspect(card))
                      : card_h * static_cast<float>(card.width) / std::max(1, card.height);
        p.pose = mat3_mul(camera, card_pose(p.width, p.height, cx, cy, angle, 0, 0));
        p.blur_sigma = blur_sigma(sc, p.height, rng);
        p.corner_radius = corner_radius(config.cards.corner_radius, card, p.width);
        s.cards.push_back(p);
    };
    const float h = base_h, w = h * 0.718f, gap = w * 0.12f;
    const auto jitter = [&] {
        return rng.uniform(sc.rotation_deg.lo, sc.rotation_deg.hi) * kPi / 180.0;
    };
    const int wanted = static_cast<int>(rng.uniform_int(sc.min_cards, sc.max_cards));
    const int pile = 1 + static_cast<int>(rng.uniform_int(0, 2));
    const int hand = std::max(0, std::min(7, (wanted - pile) / 4));
    const int board = std::max(0, wanted - pile - hand);
    const int creatures = (board + 1) / 2, lands = board - creatures;
    // Library pile, top right: a few cards almost on top of each other.
    for (int k = 0; k < pile; ++k) {
        // In this order: as for draw_card, the bytes must not depend on how a compiler orders a
        // call's arguments.
        const double angle = jitter();
        const float dy = static_cast<float>(rng.normal(0, 2));
        const float dx = static_cast<float>(rng.normal(0, 2));
        add(W - w * 0.8f + dx, h * 0.7f + dy, h, angle);
    }
    // Rows of permanents, wrapping before the pile's column; tapped cards turn 90 degrees.
    const float x0 = w * 0.8f, x_end = W - w * 1.6f;
    float y = H * 0.12f + h * 0.5f;
    auto row = [&](int count, double tap_chance) {
        float x = x0;
        for (int k = 0; k < count; ++k) {
            const bool tapped = rng.bernoulli(tap_chance);
            const float span = tapped ? h : w;
            if (x + span > x_end && x > x0) {
                x = x0;
                y += h + gap;
            }
            add(x + span / 2, y, h, (tapped ? kPi / 2 : 0) + jitter());
            x += span + gap;
        }
        y += h + gap;
    };
    row(creatures, 0.3);
    row(lands, 0.5);
    // The hand: a fan along the bottom edge, larger (nearer the camera), partly out of frame.
    const float hand_h = h * 1.3f, hand_w = hand_h * 0.718f;
    for (int k = 0; k < hand; ++k) {
        const float t = hand > 1 ? static_cast<float>(k) / (hand - 1) - 0.5f : 0.0f;
        add(W / 2 + t * hand_w * 0.6f * hand, H - hand_h * 0.2f + std::abs(t) * hand_h * 0.15f,
            hand_h, t * 0.5 + jitter());
    }
}

Effects compose_effects(const EffectsConfig& e, int width, int height, Rng& rng) {
    Effects fx;
    if (e.lighting > 0) {
        const double a = rng.uniform(0.0, 2 * kPi);
        fx.light_strength = static_cast<float>(e.lighting * rng.uniform(0.3, 1.0));
        fx.light_dx = static_cast<float>(std::cos(a));
        fx.light_dy = static_cast<float>(std::sin(a));
    }
    if (e.shadow > 0) {
        fx.shadow_opacity = static_cast<float>(e.shadow * rng.uniform(0.6, 1.0));
        fx.shadow_dx = static_cast<float>(rng.uniform(2.0, 7.0));
        fx.shadow_dy = static_cast<float>(rng.uniform(2.0, 7.0));
    }
    if (e.glare > 0) {
        fx.glare_strength = static_cast<float>(e.glare * rng.uniform(0.3, 1.0));
        fx.glare_x = static_cast<float>(rng.uniform(0.0, width));
        fx.glare_y = static_cast<float>(rng.uniform(0.0, height));
        fx.glare_radius = static_cast<float>(rng.uniform(0.1, 0.3) * std::max(width, height));
    }
    if (e.noise > 0) fx.noise_sigma = static_cast<float>(e.noise * rng.uniform(0.5, 1.0));
    return fx;
}

// Every value is drawn whether its effect is on or not (a range [x, x] gives x), in a fixed
// order on a stream of its own: turning one camera effect on moves no other draw.
Camera compose_camera(const CameraConfig& c, Rng& rng) {
    Camera cam;
    for (float& g : cam.gain)
        g = static_cast<float>(rng.uniform(1.0 - c.white_balance, 1.0 + c.white_balance));
    const double exposure = std::exp2(rng.uniform(c.exposure.lo, c.exposure.hi));
    for (float& g : cam.gain) g = static_cast<float>(g * exposure);
    cam.gamma = static_cast<float>(rng.uniform(c.gamma.lo, c.gamma.hi));
    cam.saturation = static_cast<float>(rng.uniform(c.saturation.lo, c.saturation.hi));
    const double q = rng.uniform();
    if (c.jpeg_quality.hi > 0) {
        const double span = c.jpeg_quality.hi - c.jpeg_quality.lo + 1.0;
        cam.jpeg_quality = static_cast<int>(c.jpeg_quality.lo + std::floor(q * span));
    }
    cam.motion_length = static_cast<float>(rng.uniform(c.motion_blur.lo, c.motion_blur.hi));
    const double angle = rng.uniform(0.0, kPi);
    cam.motion_dx = static_cast<float>(std::cos(angle));
    cam.motion_dy = static_cast<float>(std::sin(angle));
    cam.lens_k1 = static_cast<float>(rng.uniform(c.lens_distortion.lo, c.lens_distortion.hi));
    return cam;
}

}  // namespace

void card_corners(const CardPlacement& card, Vec2 out[4]) {
    out[0] = mat3_apply(card.pose, 0, 0);
    out[1] = mat3_apply(card.pose, card.width, 0);
    out[2] = mat3_apply(card.pose, card.width, card.height);
    out[3] = mat3_apply(card.pose, 0, card.height);
}

SceneSpec compose(const Config& config, const Catalog& catalog, const Backgrounds& backgrounds,
                  int64_t index) {
    SceneSpec s;
    s.index = index;
    s.seed = config.seed;
    s.width = config.frame.width;
    s.height = config.frame.height;
    Rng rng(config.seed, static_cast<uint64_t>(index), kLayoutStream);
    s.background =
        static_cast<int32_t>(rng.uniform_int(0, static_cast<int64_t>(backgrounds.size()) - 1));
    s.background_level = static_cast<int32_t>(rng.uniform_int(0, kBackgroundLevels - 1));
    const cv::Mat& bg = backgrounds.level(s.background, s.background_level);
    s.crop_x = static_cast<int32_t>(rng.uniform_int(0, std::max(0, bg.cols - s.width)));
    s.crop_y = static_cast<int32_t>(rng.uniform_int(0, std::max(0, bg.rows - s.height)));
    if (config.scene.kind == SceneKind::Table)
        compose_table(config, catalog, rng, s);
    else
        compose_random(config, catalog, rng, s);
    Rng fx_rng(config.seed, static_cast<uint64_t>(index), kEffectsStream);
    s.effects = compose_effects(config.scene.effects, s.width, s.height, fx_rng);
    Rng camera_rng(config.seed, static_cast<uint64_t>(index), kCameraStream);
    s.camera = compose_camera(config.scene.camera, camera_rng);
    Rng occluder_rng(config.seed, static_cast<uint64_t>(index), kOccluderStream);
    const Range& o = config.scene.occluders;
    s.occluders = static_cast<int>(o.lo + std::floor(occluder_rng.uniform() * (o.hi - o.lo + 1.0)));
    return s;
}

}  // namespace cardsynth
