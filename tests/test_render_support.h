// Small scenes for the render, label and determinism tests: one opaque card file, a plain
// background, and placements built by hand.
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <opencv2/imgcodecs.hpp>

#include "cardsynth/background.h"
#include "cardsynth/catalog.h"
#include "cardsynth/config.h"
#include "cardsynth/render.h"
#include "cardsynth/scene.h"

namespace cardsynth::testing {

// An opaque card image of w x h with a distinct top-left quadrant, written once per process.
inline std::string opaque_card_file(int w, int h) {
    const std::string dir = "/tmp/cardsynth-test-render-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/card_" + std::to_string(w) + "x" + std::to_string(h) + ".png";
    if (!std::filesystem::exists(path)) {
        cv::Mat bgr(h, w, CV_8UC3, cv::Scalar(40, 160, 220));
        bgr(cv::Rect(0, 0, w / 2, h / 2)).setTo(cv::Scalar(200, 30, 30));
        cv::imwrite(path, bgr);
    }
    return path;
}

struct Fixture {
    Config config;
    Catalog catalog;
    Backgrounds backgrounds;

    explicit Fixture(int width = 200, int height = 160, double card_h = 84) {
        config.frame = {width, height};
        config.cards.corner_radius = 0;
        config.scene.card_height = {card_h, card_h};
        config.scene.blur_sigma = {0, 0};
        config.scene.effects = {0, 0, 0, 0};
        Card card;
        card.name = "opaque";
        card.source = opaque_card_file(100, 140);
        card.width = 100;
        card.height = 140;
        catalog = Catalog::from_cards({card}, config.cards);
        backgrounds = Backgrounds::load(config.backgrounds, config.frame);
    }

    SceneSpec empty_scene() const {
        SceneSpec s;
        s.width = config.frame.width;
        s.height = config.frame.height;
        return s;
    }

    // A card `h` high (aspect of the card file), centred at (cx, cy), turned by `deg`.
    static CardPlacement card(float cx, float cy, float h, float deg) {
        CardPlacement p;
        p.card_id = 0;
        p.height = h;
        p.width = h * 100.0f / 140.0f;
        const float a = deg * 3.14159265f / 180.0f;
        p.pose =
            mat3_mul(mat3_translate(cx, cy), mat3_mul(mat3_rotate(std::cos(a), std::sin(a)),
                                                      mat3_translate(-p.width / 2, -p.height / 2)));
        return p;
    }

    Frame render(const SceneSpec& s, int threads = 1) const {
        RenderInputs in;
        in.config = &config;
        in.catalog = &catalog;
        in.backgrounds = &backgrounds;
        in.threads = threads;
        auto r = make_cpu_renderer(in);
        std::vector<Frame> frames;
        r->render({s}, frames);
        return frames[0];
    }
};

}  // namespace cardsynth::testing
