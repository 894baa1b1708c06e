// The global effects: the CPU's vector pass against the per-pixel function the GPU runs, both
// against the formulas written out in floating point, and the noise field's statistics; the
// camera's colour table and saturation mix against their formulas, and its motion blur against
// the mean of its taps.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/core.hpp>

#include "base/cpu_features.h"
#include "render/kernels/shading.h"
#include "render/shade_row.h"

using namespace cardsynth;

namespace {

ShadingParams random_params(std::mt19937& rng, int w, int h) {
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    SceneSpec s;
    s.width = w, s.height = h, s.seed = rng(), s.index = rng() % 1000;
    Effects& fx = s.effects;
    const float a = unit(rng) * 6.2832f;
    // Each effect off about a quarter of the time; strengths up to the configuration's limits.
    if (rng() % 4)
        fx.light_strength = unit(rng), fx.light_dx = std::cos(a), fx.light_dy = std::sin(a);
    if (rng() % 4) {
        fx.glare_strength = unit(rng), fx.glare_x = unit(rng) * w, fx.glare_y = unit(rng) * h;
        fx.glare_radius = (0.1f + 0.2f * unit(rng)) * std::max(w, h);
    }
    if (rng() % 4) fx.noise_sigma = rng() % 2 ? 0.5f + 2.0f * unit(rng) : 50.0f * unit(rng);
    return shading_params(s);
}

// The pixel by the GPU's route: every term from scratch.
void shade_per_pixel(const ShadingParams& p, cv::Mat& rgb) {
    std::vector<float> gx, gy;
    append_glare_profile(p.glare_x, p.glare_inv_r2, p.width, gx);
    append_glare_profile(p.glare_y, p.glare_inv_r2, p.height, gy);
    for (int y = 0; y < p.height; ++y)
        for (int x = 0; x < p.width; ++x) {
            const bool glare = p.glare_strength > 0;
            shade_pixel(p, x, y, glare ? gx[x] : 0.0f, glare ? gy[y] : 0.0f,
                        rgb.ptr<uint8_t>(y) + 3 * x);
        }
}

}  // namespace

TEST_CASE("the CPU's shading pass writes the bytes of the per-pixel function") {
    std::mt19937 rng(17);
    for (int trial = 0; trial < 40; ++trial) {
        const int w = 1 + static_cast<int>(rng() % 150), h = 1 + static_cast<int>(rng() % 60);
        const ShadingParams p = random_params(rng, w, h);
        cv::Mat a(h, w, CV_8UC3);
        cv::randu(a, 0, 256);
        cv::Mat b = a.clone();
        shade_frame(p, a.data, a.step[0]);
        if (shading_active(p)) shade_per_pixel(p, b);
        INFO("trial " << trial << ", " << w << " x " << h);
        REQUIRE(cv::countNonZero(a.reshape(1) != b.reshape(1)) == 0);
    }
}

TEST_CASE("the AVX2 shading row writes the bytes of the scalar one") {
    if (!cpu_has_avx2()) {
        WARN("SKIP: this processor has no AVX2; only the scalar shading runs here");
        return;
    }
    std::mt19937 rng(3);
    for (int trial = 0; trial < 200; ++trial) {
        const int n = 1 + static_cast<int>(rng() % 200);
        std::vector<uint8_t> rgb(n), rgb2;
        std::vector<int16_t> light(n);
        std::vector<uint16_t> col(n);
        std::vector<int8_t> noise(n);
        for (int i = 0; i < n; ++i) {
            rgb[i] = static_cast<uint8_t>(rng());
            light[i] = static_cast<int16_t>(static_cast<int>(rng() % 8193) - 4096);
            col[i] = static_cast<uint16_t>(rng());
            noise[i] = static_cast<int8_t>(static_cast<int>(rng() % 157) - 78);
        }
        rgb2 = rgb;
        const ShadeRow row{rgb.data(),   n,
                           light.data(), static_cast<int>(rng() % 8193) - 4096,
                           col.data(),   static_cast<uint32_t>(rng() % 4081),
                           noise.data(), static_cast<int>(rng() % 6401)};
        shade_row_scalar(row);
        ShadeRow fast = row;
        fast.rgb = rgb2.data();
        shade_row_avx2(fast);
        INFO("trial " << trial);
        REQUIRE(rgb == rgb2);
    }
}

TEST_CASE("a shaded channel is the effects' formula within rounding") {
    std::mt19937 rng(9);
    for (int trial = 0; trial < 100000; ++trial) {
        const uint32_t v = rng() % 256, col = rng() % 65536, row = rng() % 4081;
        const int x_term = static_cast<int>(rng() % 8193) - 4096;
        const int y_term = static_cast<int>(rng() % 8193) - 4096;
        const int field = static_cast<int>(rng() % 157) - 78, sigma_q7 = rng() % 6401;
        const double gain = std::min(std::max(1.0 + (x_term + y_term) / 4096.0, 0.0), 4.0);
        const double glare = col / 65536.0 * row / 16.0;
        const double noise = field / 16.0 * sigma_q7 / 128.0;
        const double want = std::min(std::max(v * gain + glare + noise, 0.0), 255.0);
        const int got =
            shade_channel(v, light_gain(x_term, y_term), col, row, noise_q4(field, sigma_q7));
        INFO("v " << v << " gain " << gain << " glare " << glare << " noise " << noise);
        REQUIRE(std::abs(got - want) <= 0.7);
    }
}

TEST_CASE("the noise field is fixed, centred and of unit standard deviation") {
    const int8_t* field = noise_field();
    REQUIRE(field == noise_field());
    double sum = 0, sum2 = 0;
    for (uint32_t i = 0; i < kNoiseFieldSize; ++i) {
        if (i % 4099 == 0) REQUIRE(field[i] == noise_field_value(i));
        sum += field[i], sum2 += static_cast<double>(field[i]) * field[i];
    }
    const double mean = sum / kNoiseFieldSize;
    const double sd = std::sqrt(sum2 / kNoiseFieldSize - mean * mean);
    CHECK(std::abs(mean) < 0.05);
    CHECK(std::abs(sd - 16.0) < 0.08);  // 16 per standard deviation
    // The same first entries for good: a change here changes every noisy image.
    CHECK(noise_field_value(0) == field[0]);
}

TEST_CASE("noise alone on a flat frame has the configured standard deviation") {
    for (float sigma : {1.0f, 2.0f, 8.0f}) {
        SceneSpec s;
        s.width = 320, s.height = 240, s.seed = 5, s.index = 2;
        s.effects.noise_sigma = sigma;
        cv::Mat rgb(s.height, s.width, CV_8UC3, cv::Scalar::all(128));
        shade_frame(shading_params(s), rgb.data, rgb.step[0]);
        cv::Scalar mean, sd;
        cv::meanStdDev(rgb.reshape(1), mean, sd);
        // Rounding to whole grey levels adds a variance of 1/12.
        const double want = std::sqrt(sigma * sigma + 1.0 / 12.0);
        INFO("sigma " << sigma << ": mean " << mean[0] << ", sd " << sd[0]);
        CHECK(std::abs(mean[0] - 128.0) < 0.05 * sigma);
        CHECK(std::abs(sd[0] - want) < 0.03 * want);
    }
}

TEST_CASE("images read different rows of the noise field") {
    SceneSpec a, b;
    a.width = b.width = 64, a.height = b.height = 8, a.seed = b.seed = 1;
    a.index = 0, b.index = 1;
    a.effects.noise_sigma = b.effects.noise_sigma = 4.0f;
    cv::Mat fa(8, 64, CV_8UC3, cv::Scalar::all(100)), fb = fa.clone(), fa2 = fa.clone();
    shade_frame(shading_params(a), fa.data, fa.step[0]);
    shade_frame(shading_params(a), fa2.data, fa2.step[0]);
    shade_frame(shading_params(b), fb.data, fb.step[0]);
    CHECK(cv::countNonZero(fa.reshape(1) != fa2.reshape(1)) == 0);
    CHECK(cv::countNonZero(fa.reshape(1) != fb.reshape(1)) > 1000);
}

TEST_CASE("the default camera's colour table is the identity and inactive") {
    const ColourTable t = colour_table(Camera{});
    CHECK(t.active == 0);
    CHECK(t.saturation_q8 == kSaturationOne);
    for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v) REQUIRE(t.lut[c][v] == v);
    // An inactive table leaves the frame to the shading alone.
    cv::Mat a(9, 31, CV_8UC3), b;
    cv::randu(a, 0, 256);
    b = a.clone();
    SceneSpec s;
    s.width = 31, s.height = 9;
    shade_frame(shading_params(s), a.data, a.step[0], &t);
    CHECK(cv::countNonZero(a.reshape(1) != b.reshape(1)) == 0);
}

TEST_CASE("the colour table is exposure and white balance, then gamma, rounded") {
    std::mt19937 rng(23);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int trial = 0; trial < 200; ++trial) {
        Camera cam;
        const double stops = -3.0 + 6.0 * unit(rng);
        for (float& g : cam.gain) g = static_cast<float>((0.5 + unit(rng)) * std::exp2(stops));
        cam.gamma = static_cast<float>(0.25 + 3.75 * unit(rng));
        const ColourTable t = colour_table(cam);
        CHECK(t.active == 1);
        for (int c = 0; c < 3; ++c) {
            int previous = 0;
            for (int v = 0; v < 256; ++v) {
                const double lit = std::min(1.0, static_cast<double>(cam.gain[c]) * v / 255.0);
                const double want = 255.0 * std::pow(lit, 1.0 / cam.gamma);
                INFO("trial " << trial << " channel " << c << " value " << v);
                REQUIRE(std::abs(t.lut[c][v] - want) <= 0.5 + 1e-9);
                REQUIRE(t.lut[c][v] >= previous);  // monotone: no colour flips order
                previous = t.lut[c][v];
            }
        }
    }
    // Named points: one stop up doubles, gamma 2 takes a quarter to a half.
    Camera up;
    up.gain[0] = up.gain[1] = up.gain[2] = 2.0f;
    CHECK(colour_table(up).lut[1][100] == 200);
    CHECK(colour_table(up).lut[1][200] == 255);
    Camera g2;
    g2.gamma = 2.0f;
    CHECK(colour_table(g2).lut[2][64] == 128);  // 255 * sqrt(64 / 255) = 127.75
}

TEST_CASE("the saturation mix is the luma-preserving formula in integers") {
    for (int c = 0; c < 256; ++c)
        for (int y = 0; y < 256; ++y) {
            REQUIRE(saturate_channel(c, y, kSaturationOne) == c);
            REQUIRE(saturate_channel(c, y, 0) == y);
        }
    std::mt19937 rng(5);
    for (int trial = 0; trial < 100000; ++trial) {
        const int r = rng() % 256, g = rng() % 256, b = rng() % 256, s_q8 = rng() % 769;
        const int y = luma_q8(r, g, b);
        REQUIRE(std::abs(y - (0.299 * r + 0.587 * g + 0.114 * b)) <= 1.0);
        for (int c : {r, g, b}) {
            const double want = std::clamp(y + s_q8 / 256.0 * (c - y), 0.0, 255.0);
            INFO("c " << c << " luma " << y << " s " << s_q8);
            REQUIRE(std::abs(saturate_channel(c, y, s_q8) - want) <= 0.5);
        }
    }
}

TEST_CASE("the CPU's shading with colour writes the bytes of the per-pixel functions") {
    std::mt19937 rng(41);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (int trial = 0; trial < 40; ++trial) {
        const int w = 1 + static_cast<int>(rng() % 150), h = 1 + static_cast<int>(rng() % 60);
        const ShadingParams p = random_params(rng, w, h);
        Camera cam;
        for (float& g : cam.gain) g = 0.6f + unit(rng);
        cam.gamma = 0.5f + 1.5f * unit(rng);
        cam.saturation = trial % 3 ? 2.0f * unit(rng) : 1.0f;
        const ColourTable t = colour_table(cam);
        cv::Mat a(h, w, CV_8UC3);
        cv::randu(a, 0, 256);
        cv::Mat b = a.clone();
        shade_frame(p, a.data, a.step[0], &t);
        if (shading_active(p)) shade_per_pixel(p, b);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) colour_pixel(t, b.ptr<uint8_t>(y) + 3 * x);
        INFO("trial " << trial << ", " << w << " x " << h);
        REQUIRE(cv::countNonZero(a.reshape(1) != b.reshape(1)) == 0);
    }
}

namespace {

// The motion blur by its definition, pixel by pixel: the exact mean of the taps.
double motion_mean(const cv::Mat& src, const Camera& cam, int x, int y, int c) {
    const int n = motion_blur_taps(cam);
    double sum = 0;
    for (int k = 0; k < n; ++k) {
        const float t = static_cast<float>(k) - 0.5f * static_cast<float>(n - 1);
        const int sx =
            std::clamp(x + static_cast<int>(std::lround(t * cam.motion_dx)), 0, src.cols - 1);
        const int sy =
            std::clamp(y + static_cast<int>(std::lround(t * cam.motion_dy)), 0, src.rows - 1);
        sum += src.ptr<uint8_t>(sy)[3 * sx + c];
    }
    return sum / n;
}

}  // namespace

TEST_CASE("the motion blur is the mean of its taps along the direction") {
    std::mt19937 rng(13);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    for (int trial = 0; trial < 30; ++trial) {
        const int w = 1 + static_cast<int>(rng() % 90), h = 1 + static_cast<int>(rng() % 50);
        Camera cam;
        cam.motion_length = 64.0f * unit(rng);
        const float a = 3.14159265f * unit(rng);
        cam.motion_dx = std::cos(a), cam.motion_dy = std::sin(a);
        cv::Mat src(h, w, CV_8UC3);
        cv::randu(src, 0, 256);
        cv::Mat got = src.clone();
        motion_blur_frame(cam, got.data, got.step[0], w, h);
        INFO("trial " << trial << ", " << w << " x " << h << ", taps " << motion_blur_taps(cam));
        if (motion_blur_taps(cam) < 2) {
            REQUIRE(cv::countNonZero(got.reshape(1) != src.reshape(1)) == 0);
            continue;
        }
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                for (int c = 0; c < 3; ++c)
                    REQUIRE(std::abs(got.ptr<uint8_t>(y)[3 * x + c] -
                                     motion_mean(src, cam, x, y, c)) <= 0.5 + 1e-4);
    }
}

TEST_CASE("a horizontal motion blur spreads a line over its length and keeps flat areas") {
    Camera cam;
    cam.motion_length = 5.0f;  // taps at -2..2
    cv::Mat frame(4, 40, CV_8UC3, cv::Scalar::all(0));
    frame.col(20).setTo(cv::Scalar::all(255));
    motion_blur_frame(cam, frame.data, frame.step[0], 40, 4);
    for (int x = 0; x < 40; ++x) {
        INFO("x " << x);
        CHECK(frame.at<cv::Vec3b>(2, x)[1] == (std::abs(x - 20) <= 2 ? 51 : 0));
    }
    cv::Mat flat(30, 30, CV_8UC3, cv::Scalar(10, 120, 250));
    cam.motion_length = 9.0f, cam.motion_dx = 0.6f, cam.motion_dy = 0.8f;
    motion_blur_frame(cam, flat.data, flat.step[0], 30, 30);
    CHECK(cv::norm(flat, cv::Mat(30, 30, CV_8UC3, cv::Scalar(10, 120, 250)), cv::NORM_INF) == 0);
}
