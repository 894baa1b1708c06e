#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <vector>

#include "base/rng.h"
#include "render/labels.h"
#include "render/lens.h"
#include "render_support.h"
#include "scene/scene.h"

using namespace cardsynth;

TEST_CASE("the lens's image and source are inverse maps") {
    SceneSpec scene;
    scene.width = 640, scene.height = 360;
    Rng rng(3, 0);
    for (float k1 : {-0.2f, -0.1f, -0.02f}) {
        scene.camera.lens_k1 = k1;
        const Lens lens = lens_of(scene);
        // Every point the frame shows lies within the field: what its corner shows.
        const Vec2 far = lens_source(lens, {0, 0});
        const double field = std::hypot(far.x - 320.0, far.y - 180.0);
        for (int i = 0; i < 2000; ++i) {
            const Vec2 p{static_cast<float>(rng.uniform(0, 640)),
                         static_cast<float>(rng.uniform(0, 360))};
            INFO("k1 " << k1 << " at " << p.x << ", " << p.y);
            const Vec2 there = lens_image(lens, lens_source(lens, p));
            CHECK(std::hypot(there.x - p.x, there.y - p.y) < 2e-3);
            if (std::hypot(p.x - 320.0, p.y - 180.0) < field) {
                const Vec2 back = lens_source(lens, lens_image(lens, p));
                CHECK(std::hypot(back.x - p.x, back.y - p.y) < 2e-3);
            }
        }
        // Barrel: the frame's corner shows a point nearer the centre; the centre stays.
        const Vec2 corner = lens_source(lens, {0, 0});
        CHECK(corner.x > 0);
        CHECK(corner.y > 0);
        const Vec2 centre = lens_image(lens, {320, 180});
        CHECK(centre.x == 320);
        CHECK(centre.y == 180);
    }
    scene.camera.lens_k1 = 0;
    const Vec2 same = lens_image(lens_of(scene), {12.25f, 300.5f});
    CHECK((same.x == 12.25f && same.y == 300.5f));
}

// One card per frame, nothing over it: where all four corners are seen, the mask's tight box is
// the whole card's box, which the lens bows away from the corners' box.
TEST_CASE("labels follow the lens: corners and whole-card boxes match the bent masks") {
    Config c;
    c.frame = {640, 360};
    c.cards.builtin_count = 20;
    c.scene.min_cards = c.scene.max_cards = 1;
    c.scene.card_height = {90, 150};
    c.scene.perspective = 0.3;
    c.scene.camera.lens_distortion = {-0.2, -0.15};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    const std::vector<SceneSpec> scenes = testing::compose_images(c, catalog, bgs, 40);
    const std::vector<Frame> frames = testing::cpu_render(c, catalog, bgs, scenes, 2);
    int whole = 0, bowed = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        const CardLabel l = compute_labels(scenes[i], frames[i].ids).cards[0];
        bool all_seen = true;
        for (uint8_t v : l.corner_visible) all_seen = all_seen && v == 2;
        if (!all_seen) continue;
        ++whole;
        INFO("image " << i);
        CHECK(l.visible_fraction > 0.97f);
        // The mask's tight box misses the whole-card box by the rounded corners at most; the
        // same labels without the lens miss it by more.
        SceneSpec flat = scenes[i];
        flat.camera.lens_k1 = 0;
        const CardLabel straight = compute_labels(flat, frames[i].ids).cards[0];
        float bent_off = 0, straight_off = 0;
        for (int k = 0; k < 4; ++k) {
            bent_off = std::max(bent_off, std::fabs(l.bbox_full[k] - l.bbox[k]));
            straight_off = std::max(straight_off, std::fabs(straight.bbox_full[k] - l.bbox[k]));
        }
        const float rounding = 0.6f * scenes[i].cards[0].corner_radius + 1.5f;
        CHECK(bent_off <= rounding);
        bowed += straight_off > bent_off + 2.0f;
    }
    CHECK(whole >= 10);
    CHECK(bowed >= whole / 2);
}

TEST_CASE("the lens renders the same bytes on 1 and 2 threads") {
    Config c;
    c.frame = {320, 240};
    c.cards.builtin_count = 20;
    c.scene.camera.lens_distortion = {-0.2, -0.05};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    const std::vector<SceneSpec> scenes = testing::compose_images(c, catalog, bgs, 6);
    const std::vector<Frame> one = testing::cpu_render(c, catalog, bgs, scenes, 1);
    const std::vector<Frame> two = testing::cpu_render(c, catalog, bgs, scenes, 2);
    for (size_t i = 0; i < scenes.size(); ++i) {
        CHECK(scenes[i].camera.lens_k1 <= -0.05f);
        CHECK(cv::norm(one[i].rgb, two[i].rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[i].ids, two[i].ids, cv::NORM_INF) == 0);
    }
}
