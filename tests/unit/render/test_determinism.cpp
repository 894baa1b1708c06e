#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include "render/labels.h"

#include "render_support.h"
#include "scene/scene.h"

using namespace cardsynth;

TEST_CASE("compose is a pure function of the index") {
    Config c;
    c.frame = {320, 240};
    c.cards.builtin_count = 30;
    c.scene.perspective = 0.4;
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    const SceneSpec a = compose(c, catalog, bgs, 17), b = compose(c, catalog, bgs, 17);
    const SceneSpec other = compose(c, catalog, bgs, 18);
    REQUIRE(a.cards.size() == b.cards.size());
    for (size_t k = 0; k < a.cards.size(); ++k) {
        CHECK(a.cards[k].card_id == b.cards[k].card_id);
        CHECK(std::memcmp(a.cards[k].pose.m, b.cards[k].pose.m, sizeof(Mat3)) == 0);
    }
    CHECK(a.crop_x == b.crop_x);
    const bool differs = other.cards.size() != a.cards.size() || other.crop_x != a.crop_x ||
                         other.cards[0].card_id != a.cards[0].card_id;
    CHECK(differs);
}

TEST_CASE("1 thread and 2 threads render the same bytes") {
    Config c;
    c.frame = {320, 240};
    c.cards.builtin_count = 20;
    c.scene.perspective = 0.5;
    c.scene.effects = {0.3, 0.4, 0.3, 3.0};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    const std::vector<SceneSpec> scenes = testing::compose_images(c, catalog, bgs, 8);
    RenderInputs in;
    in.config = &c;
    in.catalog = &catalog;
    in.backgrounds = &bgs;
    std::vector<Frame> one, two;
    in.threads = 1;
    make_cpu_renderer(in)->render(scenes, one);
    in.threads = 2;
    make_cpu_renderer(in)->render(scenes, two);
    for (size_t i = 0; i < scenes.size(); ++i) {
        CHECK(cv::norm(one[i].rgb, two[i].rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[i].ids, two[i].ids, cv::NORM_INF) == 0);
    }
    // And they are not trivially equal: images differ from each other.
    CHECK(cv::norm(one[0].rgb, one[1].rgb, cv::NORM_INF) > 0);
}

TEST_CASE("a reused frame renders the same bytes as a fresh one") {
    // Callers render image after image into one frame: nothing it held before may show through
    // (a renderer that skips pixels it expects to cover must cover them). Fill it with noise and
    // render over it.
    Config c;
    c.frame = {320, 240};
    c.cards.builtin_count = 20;
    c.scene.perspective = 0.5;
    c.scene.blur_sigma = {0.0, 2.0};
    c.scene.effects = {0.3, 0.4, 0.3, 3.0};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    RenderInputs in;
    in.config = &c;
    in.catalog = &catalog;
    in.backgrounds = &bgs;
    const std::unique_ptr<Renderer> renderer = make_cpu_renderer(in);
    Frame reused;
    for (int i = 0; i < 8; ++i) {
        const SceneSpec scene = compose(c, catalog, bgs, i);
        Frame fresh;
        renderer->render_one(scene, fresh);
        renderer->render_one(scene, reused);
        const uint8_t* buffer = reused.rgb.data;
        cv::randu(reused.rgb, 0, 256);
        cv::randu(reused.ids, 0, 256);
        renderer->render_one(scene, reused);
        REQUIRE(reused.rgb.data == buffer);  // the noise was drawn over, not thrown away
        CHECK(cv::norm(fresh.rgb, reused.rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(fresh.ids, reused.ids, cv::NORM_INF) == 0);
    }
}

TEST_CASE("overlap: avoid places cards that do not overlap") {
    Config c;
    c.frame = {640, 480};
    c.cards.builtin_count = 10;
    c.scene.overlap = Overlap::Avoid;
    c.scene.min_cards = c.scene.max_cards = 12;
    c.scene.card_height = {100, 140};
    c.scene.effects = {0, 0, 0, 0};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    RenderInputs in;
    in.config = &c;
    in.catalog = &catalog;
    in.backgrounds = &bgs;
    auto r = make_cpu_renderer(in);
    for (int i = 0; i < 4; ++i) {
        std::vector<SceneSpec> s{compose(c, catalog, bgs, i)};
        std::vector<Frame> f;
        r->render(s, f);
        CHECK(s[0].cards.size() >= 2);
        // Each card keeps every pixel it has when drawn alone: no later card covers it.
        for (size_t k = 0; k < s[0].cards.size(); ++k) {
            std::vector<SceneSpec> alone{s[0]};
            alone[0].cards = {s[0].cards[k]};
            std::vector<Frame> g;
            r->render(alone, g);
            CHECK(cv::countNonZero(f[0].ids == static_cast<int>(k + 1)) ==
                  cv::countNonZero(g[0].ids == 1));
        }
    }
}

TEST_CASE("the camera's effects render the same bytes on 1 and 2 threads and change only pixels") {
    Config c;
    c.frame = {320, 240};
    c.cards.builtin_count = 20;
    c.scene.perspective = 0.5;
    c.scene.effects = {0.3, 0.4, 0.3, 3.0};
    Config on = c;
    on.scene.camera.white_balance = 0.15;
    on.scene.camera.exposure = {-0.7, 0.7};
    on.scene.camera.gamma = {0.7, 1.4};
    on.scene.camera.saturation = {0.5, 1.5};
    on.scene.camera.motion_blur = {3, 12};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    std::vector<SceneSpec> plain, scenes;
    for (int i = 0; i < 6; ++i) {
        plain.push_back(compose(c, catalog, bgs, i));
        scenes.push_back(compose(on, catalog, bgs, i));
    }
    RenderInputs in;
    in.config = &on;
    in.catalog = &catalog;
    in.backgrounds = &bgs;
    std::vector<Frame> one, two, again, off;
    in.threads = 1;
    make_cpu_renderer(in)->render(scenes, one);
    in.threads = 2;
    const std::unique_ptr<Renderer> renderer = make_cpu_renderer(in);
    renderer->render(scenes, two);
    renderer->render(scenes, again);
    renderer->render(plain, off);
    for (size_t i = 0; i < scenes.size(); ++i) {
        INFO("image " << i);
        CHECK(cv::norm(one[i].rgb, two[i].rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(two[i].rgb, again[i].rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[i].ids, two[i].ids, cv::NORM_INF) == 0);
        // Colour and motion blur touch the pixels only: the id buffer, hence the labels, stay.
        CHECK(cv::norm(one[i].ids, off[i].ids, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[i].rgb, off[i].rgb, cv::NORM_L1) > 320.0 * 240);
    }
}

TEST_CASE("objects over the cards render the same bytes on 1 and 2 threads and only hide cards") {
    Config c;
    c.frame = {320, 240};
    c.cards.builtin_count = 20;
    c.scene.min_cards = 6;
    c.scene.max_cards = 10;
    Config on = c;
    on.scene.occluders = {3, 3};
    const Catalog catalog = Catalog::load(c.cards);
    const Backgrounds bgs = Backgrounds::load(c.backgrounds, c.frame);
    std::vector<SceneSpec> plain, scenes;
    for (int i = 0; i < 8; ++i) {
        plain.push_back(compose(c, catalog, bgs, i));
        scenes.push_back(compose(on, catalog, bgs, i));
        REQUIRE(scenes.back().occluders == 3);
        REQUIRE(plain.back().occluders == 0);
    }
    const std::vector<Frame> one = testing::cpu_render(on, catalog, bgs, scenes, 1);
    const std::vector<Frame> two = testing::cpu_render(on, catalog, bgs, scenes, 2);
    const std::vector<Frame> off = testing::cpu_render(on, catalog, bgs, plain, 2);
    int hidden = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        INFO("image " << i);
        CHECK(cv::norm(one[i].rgb, two[i].rgb, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[i].ids, two[i].ids, cv::NORM_INF) == 0);
        CHECK(cv::norm(one[i].rgb, off[i].rgb, cv::NORM_INF) > 0);
        // An object takes pixels from the cards and gives none: every id it changes becomes 0.
        const cv::Mat changed = one[i].ids != off[i].ids;
        const cv::Mat to_card = one[i].ids != 0;
        CHECK(cv::countNonZero(changed & to_card) == 0);
        hidden += cv::countNonZero(changed);
    }
    CHECK(hidden > 1000);
}
