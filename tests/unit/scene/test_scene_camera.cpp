// What compose() draws for the camera: nothing by default, values inside the configured ranges,
// a stream of its own that moves no other draw, and a pure function of the index.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <set>

#include "catalog/catalog.h"
#include "scene/background.h"
#include "scene/scene.h"

using namespace cardsynth;

namespace {

struct Setup {
    Config config;
    Catalog catalog;
    Backgrounds backgrounds;

    Setup() {
        config.frame = {160, 96};
        config.cards.builtin_count = 20;
        config.scene.min_cards = 2, config.scene.max_cards = 5;
        config.scene.card_height = {30, 60};
        config.backgrounds.distractors = 0;
        catalog = Catalog::load(config.cards);
        backgrounds = Backgrounds::load(config.backgrounds, config.frame);
    }
    SceneSpec scene(int64_t i) const { return compose(config, catalog, backgrounds, i); }
};

void turn_camera_on(CameraConfig& cam) {
    cam.white_balance = 0.1;
    cam.exposure = {-0.5, 0.5};
    cam.gamma = {0.8, 1.25};
    cam.saturation = {0.7, 1.3};
    cam.jpeg_quality = {40, 45};
    cam.motion_blur = {2, 6};
}

}  // namespace

TEST_CASE("the default camera changes nothing", "[scene][camera]") {
    const Setup s;
    for (int64_t i = 0; i < 20; ++i) {
        const Camera cam = s.scene(i).camera;
        for (float g : cam.gain) CHECK(g == 1.0f);
        CHECK(cam.gamma == 1.0f);
        CHECK(cam.saturation == 1.0f);
        CHECK(cam.jpeg_quality == 0);
        CHECK(cam.motion_length == 0.0f);
    }
}

TEST_CASE("camera values are drawn per image inside their ranges", "[scene][camera]") {
    Setup s;
    turn_camera_on(s.config.scene.camera);
    std::set<int> qualities;
    std::set<float> gammas;
    for (int64_t i = 0; i < 200; ++i) {
        const Camera cam = s.scene(i).camera;
        const float exposure_lo = std::exp2(-0.5f), exposure_hi = std::exp2(0.5f);
        for (float g : cam.gain) {
            CHECK(g >= 0.9f * exposure_lo * 0.9999f);
            CHECK(g <= 1.1f * exposure_hi * 1.0001f);
        }
        CHECK((cam.gamma >= 0.8f && cam.gamma < 1.25f));
        CHECK((cam.saturation >= 0.7f && cam.saturation < 1.3f));
        CHECK((cam.jpeg_quality >= 40 && cam.jpeg_quality <= 45));
        CHECK((cam.motion_length >= 2.0f && cam.motion_length < 6.0f));
        CHECK(std::abs(std::hypot(cam.motion_dx, cam.motion_dy) - 1.0f) < 1e-5f);
        CHECK(cam.motion_dy >= 0.0f);  // angles in [0, pi): every direction once
        qualities.insert(cam.jpeg_quality);
        gammas.insert(cam.gamma);
    }
    CHECK(qualities.size() == 6);  // every quality of [40, 45] is drawn, the ends included
    CHECK(gammas.size() > 150);
}

TEST_CASE("the camera moves no card and no other effect, and is a function of the index",
          "[scene][camera]") {
    Setup off;
    Setup on;
    turn_camera_on(on.config.scene.camera);
    Setup gamma_only;
    gamma_only.config.scene.camera.gamma = on.config.scene.camera.gamma;
    for (int64_t i = 0; i < 20; ++i) {
        const SceneSpec a = off.scene(i), b = on.scene(i), again = on.scene(i);
        INFO("image " << i);
        REQUIRE(a.cards.size() == b.cards.size());
        for (size_t k = 0; k < a.cards.size(); ++k) {
            CHECK(a.cards[k].card_id == b.cards[k].card_id);
            CHECK(std::memcmp(&a.cards[k].pose, &b.cards[k].pose, sizeof(Mat3)) == 0);
            CHECK(a.cards[k].blur_sigma == b.cards[k].blur_sigma);
        }
        CHECK(std::memcmp(&a.effects, &b.effects, sizeof(Effects)) == 0);
        CHECK(std::memcmp(&b.camera, &again.camera, sizeof(Camera)) == 0);
        // One camera effect on alone draws the value it draws with all of them on.
        CHECK(gamma_only.scene(i).camera.gamma == b.camera.gamma);
    }
    CHECK(on.scene(0).camera.gamma != on.scene(1).camera.gamma);
}
