// Small scenes for the render, label and determinism tests: one opaque card file, a plain
// background, and placements built by hand.
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "catalog/catalog.h"
#include "config/config.h"
#include "render/render.h"
#include "scene/background.h"
#include "scene/scene.h"

namespace cardsynth::testing {

// A random texture to blur and what cv::GaussianBlur makes of it bordered by r zeros: the
// reference that both backends' blur must reproduce byte for byte.
struct BlurCase {
    float sigma = 0;
    int r = 0;
    cv::Mat tex, expected;
};

inline BlurCase random_blur_case(std::mt19937& rng, int min_size, int size_range) {
    std::uniform_real_distribution<float> sigma_of(0.15f, 3.2f);
    BlurCase b;
    b.sigma = sigma_of(rng);
    b.r = static_cast<int>(std::ceil(3.0f * b.sigma));
    const int w = min_size + static_cast<int>(rng() % size_range);
    const int h = min_size + static_cast<int>(rng() % size_range);
    b.tex.create(h, w, CV_8UC4);
    cv::randu(b.tex, 0, 256);
    // Hard edges as well as noise, like a card's border against its transparent pad.
    b.tex(cv::Rect(0, 0, (w + 2) / 3, h)).setTo(cv::Scalar::all(255));
    cv::copyMakeBorder(b.tex, b.expected, b.r, b.r, b.r, b.r, cv::BORDER_CONSTANT,
                       cv::Scalar::all(0));
    cv::GaussianBlur(b.expected, b.expected, cv::Size(2 * b.r + 1, 2 * b.r + 1), b.sigma, b.sigma,
                     cv::BORDER_CONSTANT);
    return b;
}

// The scenes of images 0..n-1 of `config`.
inline std::vector<SceneSpec> compose_images(const Config& config, const Catalog& catalog,
                                             const Backgrounds& backgrounds, int n) {
    std::vector<SceneSpec> scenes;
    for (int i = 0; i < n; ++i) scenes.push_back(compose(config, catalog, backgrounds, i));
    return scenes;
}

// `scenes` drawn by the CPU renderer on `threads` threads.
inline std::vector<Frame> cpu_render(const Config& config, const Catalog& catalog,
                                     const Backgrounds& backgrounds,
                                     const std::vector<SceneSpec>& scenes, int threads) {
    RenderInputs in;
    in.config = &config;
    in.catalog = &catalog;
    in.backgrounds = &backgrounds;
    in.threads = threads;
    std::vector<Frame> frames;
    make_cpu_renderer(in)->render(scenes, frames);
    return frames;
}

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
