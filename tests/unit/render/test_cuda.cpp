// The CUDA backend against the CPU backend: the same scenes must give the same id buffers (so the
// same labels) and nearly the same pixels, and both apply the camera's colour table to what they
// shaded byte for byte. Without a usable GPU the parity tests say so and pass; the blur
// arithmetic the GPU runs is checked against OpenCV on any machine.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "render/kernels/gaussian_fixed.h"
#include "render/kernels/shading.h"
#include "render/labels.h"
#include "render/render.h"
#include "render_support.h"
#include "scene/background.h"
#include "scene/scene.h"

using namespace cardsynth;

namespace {

Config parity_config() {
    Config c;
    c.seed = 20240611;
    c.frame.width = 320;
    c.frame.height = 240;
    c.cards.builtin_count = 20;
    c.scene.min_cards = 6;
    c.scene.max_cards = 10;
    c.scene.card_height = Range{60, 130};
    c.scene.perspective = 0.3;
    c.scene.blur_sigma = Range{0.0, 1.5};
    c.scene.effects.lighting = 0.25;
    c.scene.effects.shadow = 0.35;
    c.scene.effects.glare = 0.15;
    c.scene.effects.noise = 2.0;
    return c;
}

void require_same_labels(const ImageLabels& a, const ImageLabels& b) {
    REQUIRE(a.cards.size() == b.cards.size());
    for (size_t k = 0; k < a.cards.size(); ++k) {
        INFO("card slot " << k);
        CHECK(a.cards[k].card_id == b.cards[k].card_id);
        CHECK(a.cards[k].corners == b.cards[k].corners);
        CHECK(a.cards[k].corner_visible == b.cards[k].corner_visible);
        CHECK(a.cards[k].bbox == b.cards[k].bbox);
        CHECK(a.cards[k].bbox_full == b.cards[k].bbox_full);
        CHECK(a.cards[k].visible_fraction == b.cards[k].visible_fraction);
    }
}

// The frame through the scene camera's colour table, pixel by pixel (colour_pixel, as the GPU
// applies it).
cv::Mat coloured(const cv::Mat& rgb, const SceneSpec& scene) {
    const ColourTable t = colour_table(scene.camera);
    cv::Mat out = rgb.clone();
    if (!t.active) return out;
    for (int y = 0; y < out.rows; ++y)
        for (int x = 0; x < out.cols; ++x) colour_pixel(t, out.ptr<uint8_t>(y) + 3 * x);
    return out;
}

RenderInputs inputs_for(const Config& config, const Catalog& catalog,
                        const Backgrounds& backgrounds) {
    RenderInputs inputs;
    inputs.config = &config;
    inputs.catalog = &catalog;
    inputs.backgrounds = &backgrounds;
    inputs.threads = 2;
    inputs.cache_bytes = size_t{64} << 20;
    return inputs;
}

}  // namespace

TEST_CASE("the fixed-point Gaussian reproduces OpenCV's 8-bit GaussianBlur bit for bit",
          "[render][cuda]") {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 60; ++trial) {
        const testing::BlurCase bc = testing::random_blur_case(rng, 4, 40);
        const int r = bc.r, w = bc.tex.cols, h = bc.tex.rows;
        const float sigma = bc.sigma;
        const cv::Mat& tex = bc.tex;
        const cv::Mat& expected = bc.expected;
        INFO("sigma " << sigma << " radius " << r << " size " << w << "x" << h);

        // What the CUDA kernels do, pixel by pixel.
        const std::vector<uint16_t> taps = gaussian_taps_q8(2 * r + 1, sigma);
        int sum = 0;
        for (uint16_t t : taps) sum += t;
        REQUIRE(sum == 256);
        const int W = w + 2 * r, H = h + 2 * r;
        std::vector<uint16_t> rows(static_cast<size_t>(W) * h * 4);
        for (int y = 0; y < h; ++y)
            for (int X = 0; X < W; ++X)
                for (int c = 0; c < 4; ++c)
                    rows[(static_cast<size_t>(y) * W + X) * 4 + c] =
                        static_cast<uint16_t>(gaussian_row_sum(
                            tex.data, w, static_cast<int>(tex.step[0]), r, taps.data(), X, y, c));
        cv::Mat got(H, W, CV_8UC4);
        for (int Y = 0; Y < H; ++Y)
            for (int X = 0; X < W; ++X)
                for (int c = 0; c < 4; ++c)
                    got.at<cv::Vec4b>(Y, X)[c] =
                        gaussian_column_sum(rows.data(), W * 4, h, r, taps.data(), X, Y, c);
        cv::Mat diff;
        cv::absdiff(got.reshape(1), expected.reshape(1), diff);
        REQUIRE(cv::countNonZero(diff) == 0);
    }
}

TEST_CASE("the CUDA renderer draws what the CPU renderer draws", "[render][cuda]") {
    const Config config = parity_config();
    const Catalog catalog = Catalog::load(config.cards);
    const Backgrounds backgrounds = Backgrounds::load(config.backgrounds, config.frame);
    std::vector<SceneSpec> scenes;
    for (int64_t i = 0; i < 8; ++i) scenes.push_back(compose(config, catalog, backgrounds, i));

    RenderInputs inputs;
    inputs.config = &config;
    inputs.catalog = &catalog;
    inputs.backgrounds = &backgrounds;
    inputs.threads = 2;
    inputs.cache_bytes = size_t{64} << 20;

    // The scenes must exercise what could differ: blur, perspective, cards covering pixels.
    size_t blurred = 0, tilted = 0, cards = 0;
    for (const SceneSpec& s : scenes) {
        cards += s.cards.size();
        for (const CardPlacement& c : s.cards) {
            blurred += c.blur_sigma > 0.3f ? 1 : 0;
            tilted += c.pose.m[6] != 0.0f || c.pose.m[7] != 0.0f ? 1 : 0;
        }
    }
    REQUIRE(cards >= 48);
    REQUIRE(blurred > 0);
    REQUIRE(tilted > 0);

    std::vector<Frame> cpu_frames;
    make_cpu_renderer(inputs)->render(scenes, cpu_frames);
    for (const Frame& f : cpu_frames) REQUIRE(cv::countNonZero(f.ids) > 0);

    std::unique_ptr<Renderer> gpu;
    try {
        gpu = make_cuda_renderer(inputs);
    } catch (const Error& e) {
        WARN("no usable GPU: CUDA parity test skipped (" << e.what() << ")");
        // The automatic choice must then fall back to the CPU and say why.
        std::string why;
        const std::unique_ptr<Renderer> fallback = make_renderer(Device::Auto, inputs, why);
        CHECK(fallback->name() == "cpu");
        std::string reason = e.what();
        reason = reason.substr(reason.find(": ") + 2);  // without the "--device cuda" prefix
        CHECK(why.find("rendering on the CPU") != std::string::npos);
        CHECK(why.find(reason) != std::string::npos);
        return;
    }
    INFO("renderer " << gpu->name());
    CHECK(gpu->name().rfind("cuda:0 (", 0) == 0);

    std::vector<Frame> gpu_frames, gpu_again;
    gpu->render(scenes, gpu_frames);
    // A second call, in another order and batch, reuses the device caches and must not change a
    // byte.
    std::vector<SceneSpec> reversed(scenes.rbegin(), scenes.rend() - 3);
    gpu->render(reversed, gpu_again);
    REQUIRE(gpu_frames.size() == scenes.size());
    REQUIRE(gpu_again.size() == reversed.size());

    double total_abs = 0, total_values = 0;
    int worst = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        INFO("image " << i);
        const Frame& c = cpu_frames[i];
        const Frame& g = gpu_frames[i];
        REQUIRE(g.rgb.type() == CV_8UC3);
        REQUIRE(g.ids.type() == CV_8UC1);
        REQUIRE(g.rgb.size() == c.rgb.size());
        REQUIRE(g.ids.size() == c.ids.size());
        CHECK(cv::countNonZero(g.ids != c.ids) == 0);
        require_same_labels(compute_labels(scenes[i], g.ids), compute_labels(scenes[i], c.ids));

        cv::Mat diff;
        cv::absdiff(g.rgb.reshape(1), c.rgb.reshape(1), diff);
        double lo, hi;
        cv::minMaxLoc(diff, &lo, &hi);
        worst = std::max(worst, static_cast<int>(hi));
        total_abs += cv::sum(diff)[0];
        total_values += static_cast<double>(diff.total());
    }
    const double mean_abs = total_abs / total_values;
    INFO("mean absolute difference " << mean_abs << ", largest " << worst);
    CHECK(mean_abs <= 0.5);
    CHECK(worst <= 8);

    for (size_t j = 0; j < reversed.size(); ++j) {
        const size_t i = scenes.size() - 1 - j;
        INFO("image " << i << " rendered again");
        CHECK(cv::countNonZero(gpu_again[j].ids != gpu_frames[i].ids) == 0);
        cv::Mat diff;
        cv::absdiff(gpu_again[j].rgb.reshape(1), gpu_frames[i].rgb.reshape(1), diff);
        CHECK(cv::countNonZero(diff) == 0);
    }
}

TEST_CASE("both backends apply the camera's colour to the frame they shaded", "[render][cuda]") {
    Config config = parity_config();
    CameraConfig& cam = config.scene.camera;
    cam.white_balance = 0.15, cam.exposure = {-0.6, 0.6}, cam.gamma = {0.7, 1.4};
    cam.saturation = {0.5, 1.5};
    const Catalog catalog = Catalog::load(config.cards);
    const Backgrounds backgrounds = Backgrounds::load(config.backgrounds, config.frame);
    std::vector<SceneSpec> scenes, plain;
    for (int64_t i = 0; i < 6; ++i) {
        scenes.push_back(compose(config, catalog, backgrounds, i));
        plain.push_back(scenes.back());
        plain.back().camera = Camera{};
        REQUIRE(colour_table(scenes.back().camera).active == 1);
    }
    const RenderInputs inputs = inputs_for(config, catalog, backgrounds);
    std::vector<Frame> cpu_on, cpu_off;
    const std::unique_ptr<Renderer> cpu = make_cpu_renderer(inputs);
    cpu->render(scenes, cpu_on);
    cpu->render(plain, cpu_off);
    for (size_t i = 0; i < scenes.size(); ++i) {
        INFO("CPU image " << i);
        CHECK(cv::norm(cpu_on[i].rgb, coloured(cpu_off[i].rgb, scenes[i]), cv::NORM_INF) == 0);
        CHECK(cv::norm(cpu_on[i].rgb, cpu_off[i].rgb, cv::NORM_INF) > 0);
        CHECK(cv::countNonZero(cpu_on[i].ids != cpu_off[i].ids) == 0);
    }

    std::unique_ptr<Renderer> gpu;
    try {
        gpu = make_cuda_renderer(inputs);
    } catch (const Error& e) {
        WARN("no usable GPU: CUDA colour parity skipped (" << e.what() << ")");
        return;
    }
    std::vector<Frame> gpu_on, gpu_off;
    gpu->render(scenes, gpu_on);
    gpu->render(plain, gpu_off);
    for (size_t i = 0; i < scenes.size(); ++i) {
        INFO("GPU image " << i);
        // The table is made on the host for both: the GPU's colour step adds no difference of
        // its own to the shading's.
        CHECK(cv::norm(gpu_on[i].rgb, coloured(gpu_off[i].rgb, scenes[i]), cv::NORM_INF) == 0);
        CHECK(cv::countNonZero(gpu_on[i].ids != cpu_on[i].ids) == 0);
        require_same_labels(compute_labels(scenes[i], gpu_on[i].ids),
                            compute_labels(scenes[i], cpu_on[i].ids));
    }
}

TEST_CASE("the CUDA backend refuses what only the CPU draws, and auto draws it on the CPU",
          "[render][cuda]") {
    struct Case {
        const char* named;  // how the refusal names the key and its value
        void (*set)(Config&);
    };
    const Case cases[] = {
        {"scene.camera.motion_blur [2, 5]",
         [](Config& c) {
             c.scene.camera.motion_blur = {2, 5};
         }},
        {"scene.occluders [1, 3]",
         [](Config& c) {
             c.scene.occluders = {1, 3};
         }},
        {"scene.camera.lens_distortion [-0.1, 0]",
         [](Config& c) {
             c.scene.camera.lens_distortion = {-0.1, 0};
         }},
    };
    for (const Case& k : cases) {
        Config config = parity_config();
        k.set(config);
        const Catalog catalog = Catalog::load(config.cards);
        const Backgrounds backgrounds = Backgrounds::load(config.backgrounds, config.frame);
        const RenderInputs inputs = inputs_for(config, catalog, backgrounds);
        std::string message;
        try {
            make_cuda_renderer(inputs);
        } catch (const Error& e) {
            message = e.what();
        }
        INFO(message);
        // A build without the backend refuses every configuration, saying so.
        const bool refused = message.find(k.named) != std::string::npos ||
                             message.find("no CUDA backend") != std::string::npos;
        CHECK(refused);
        std::string why;
        const std::unique_ptr<Renderer> fallback = make_renderer(Device::Auto, inputs, why);
        CHECK(fallback->name() == "cpu");
        CHECK(why.find("rendering on the CPU") != std::string::npos);
    }
}
