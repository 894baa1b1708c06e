// The global effects: the CPU's vector pass against the per-pixel function the GPU runs, both
// against the formulas written out in floating point, and the noise field's statistics.
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
