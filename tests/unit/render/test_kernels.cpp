// The CPU renderer's fast kernels against their references: the row blur against OpenCV's 8-bit
// GaussianBlur, and the AVX2 row compositor and shadow against the scalar ones, byte for byte.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <opencv2/imgproc.hpp>

#include "render/composite_row.h"
#include "render/kernels/gaussian_fixed.h"
#include "render_support.h"

using namespace cardsynth;

TEST_CASE("gaussian_blur_rgba gives the bytes of cv::GaussianBlur on the bordered image") {
    std::mt19937 rng(11);
    GaussianScratch scratch;
    for (int trial = 0; trial < 80; ++trial) {
        const testing::BlurCase b = testing::random_blur_case(rng, 1, 60);
        const int r = b.r, w = b.tex.cols, h = b.tex.rows;
        const cv::Mat& tex = b.tex;
        const cv::Mat& expected = b.expected;
        INFO("sigma " << b.sigma << " radius " << r << " size " << w << "x" << h);
        const std::vector<uint16_t> taps = gaussian_taps_q8(2 * r + 1, b.sigma);
        // A wider destination stride than the row, as a texture with padding would have.
        const int W = w + 2 * r, H = h + 2 * r, dst_stride = W * 4 + 12;
        // Both forms: the AVX2 one (where the processor has it) and the portable one.
        for (bool portable : {false, true}) {
            INFO((portable ? "portable" : "fastest") << " form");
            scratch.portable_only = portable;
            std::vector<uint8_t> got(static_cast<size_t>(dst_stride) * H, 0xAB);
            gaussian_blur_rgba(tex.data, w, h, static_cast<int>(tex.step[0]), r, taps.data(),
                               got.data(), dst_stride, scratch);
            int differing = 0;
            for (int y = 0; y < H; ++y) {
                differing += std::memcmp(expected.ptr<uint8_t>(y), got.data() + y * dst_stride,
                                         static_cast<size_t>(W) * 4) != 0;
                // Nothing written past the row.
                for (int x = W * 4; x < dst_stride; ++x)
                    differing += got[y * dst_stride + x] != 0xAB;
            }
            REQUIRE(differing == 0);
        }
    }
}

TEST_CASE("the AVX2 row compositor writes the bytes of the scalar one, affine or projective") {
    if (!cpu_has_avx2()) {
        WARN("SKIP: this processor has no AVX2; only the scalar compositor runs here");
        return;
    }
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    const int W = 97;
    int drawn = 0;
    for (int trial = 0; trial < 300; ++trial) {
        // A premultiplied texture with a transparent border and a partly transparent interior.
        const int tw = 6 + static_cast<int>(rng() % 50), th = 6 + static_cast<int>(rng() % 50);
        cv::Mat tex(th, tw, CV_8UC4, cv::Scalar::all(0));
        for (int y = 2; y < th - 2; ++y)
            for (int x = 2; x < tw - 2; ++x) {
                uint8_t* p = tex.ptr<uint8_t>(y) + 4 * x;
                const int a = (rng() % 4 == 0) ? static_cast<int>(rng() % 256) : 255;
                for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(rng() % (a + 1));
                p[3] = static_cast<uint8_t>(a);
            }
        const float angle = unit(rng) * 6.2832f, scale = 0.5f + 1.5f * unit(rng);
        const float c = std::cos(angle) * scale, s = std::sin(angle) * scale;
        // Every other trial under perspective (a denominator between about 0.6 and 1.4).
        const float p6 = trial % 2 ? (unit(rng) - 0.5f) * 0.006f : 0.0f;
        const float p7 = trial % 2 ? (unit(rng) - 0.5f) * 0.006f : 0.0f;
        const float m[9] = {c,  s, unit(rng) * tw - 40 * c, -s, c, unit(rng) * th + 40 * s, p6,
                            p7, 1};
        cv::Mat frame(1, W, CV_8UC3), ids(1, W, CV_8UC1, cv::Scalar(0));
        cv::randu(frame, 0, 256);
        cv::Mat frame2 = frame.clone(), ids2 = ids.clone();
        RowJob job{TexView{tex.data, tw, th, static_cast<int>(tex.step[0])},
                   m,
                   0.5f + static_cast<float>(rng() % 40),
                   static_cast<int>(rng() % 10),
                   W - 1 - static_cast<int>(rng() % 10),
                   frame.data,
                   ids.data,
                   7,
                   2.0f};
        composite_row_scalar(job);
        job.rgb = frame2.data;
        job.ids = ids2.data;
        composite_row_avx2(job);
        drawn += cv::countNonZero(ids);
        INFO("trial " << trial);
        REQUIRE(cv::countNonZero(frame.reshape(1) != frame2.reshape(1)) == 0);
        REQUIRE(cv::countNonZero(ids != ids2) == 0);
    }
    REQUIRE(drawn > 1000);  // the trials did draw cards
}

TEST_CASE("the AVX2 shadow row darkens the bytes of the scalar one, affine or projective") {
    if (!cpu_has_avx2()) {
        WARN("SKIP: this processor has no AVX2; only the scalar shadow runs here");
        return;
    }
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> unit(0.0f, 1.0f);
    const int W = 101;
    int darkened = 0;
    for (int trial = 0; trial < 300; ++trial) {
        const int tw = 6 + static_cast<int>(rng() % 50), th = 6 + static_cast<int>(rng() % 50);
        cv::Mat tex(th, tw, CV_8UC4, cv::Scalar::all(0));
        for (int y = 2; y < th - 2; ++y)
            for (int x = 2; x < tw - 2; ++x)
                tex.ptr<uint8_t>(y)[4 * x + 3] =
                    static_cast<uint8_t>((rng() % 3 == 0) ? rng() % 256 : 255);
        const float angle = unit(rng) * 6.2832f, scale = 0.5f + 1.5f * unit(rng);
        const float c = std::cos(angle) * scale, s = std::sin(angle) * scale;
        // Every other trial under perspective (a denominator between about 0.6 and 1.4).
        const float p6 = trial % 2 ? (unit(rng) - 0.5f) * 0.006f : 0.0f;
        const float p7 = trial % 2 ? (unit(rng) - 0.5f) * 0.006f : 0.0f;
        const float m[9] = {c,  s, unit(rng) * tw - 40 * c, -s, c, unit(rng) * th + 40 * s, p6,
                            p7, 1};
        cv::Mat frame(1, W, CV_8UC3);
        cv::randu(frame, 0, 256);
        cv::Mat frame2 = frame.clone(), before = frame.clone();
        ShadowJob job{TexView{tex.data, tw, th, static_cast<int>(tex.step[0])},
                      m,
                      0.5f + static_cast<float>(rng() % 40),
                      static_cast<int>(rng() % 10),
                      W - 1 - static_cast<int>(rng() % 10),
                      frame.data,
                      static_cast<uint32_t>(rng() % 257)};
        shadow_row_scalar(job);
        job.rgb = frame2.data;
        shadow_row_avx2(job);
        darkened += cv::countNonZero(frame.reshape(1) != before.reshape(1));
        INFO("trial " << trial);
        REQUIRE(cv::countNonZero(frame.reshape(1) != frame2.reshape(1)) == 0);
    }
    REQUIRE(darkened > 1000);  // the trials did darken pixels
}

TEST_CASE("the AVX2 run of full shadow darkens the bytes of darken") {
    if (!cpu_has_avx2()) {
        WARN("SKIP: this processor has no AVX2; only the scalar shadow runs here");
        return;
    }
    std::mt19937 rng(4);
    for (int trial = 0; trial < 200; ++trial) {
        const int n = static_cast<int>(rng() % 70);
        const uint32_t op = static_cast<uint32_t>(rng() % 257);
        cv::Mat frame(1, n + 1, CV_8UC3);
        cv::randu(frame, 0, 256);
        cv::Mat expected = frame.clone();
        for (int x = 0; x < n; ++x) darken(expected.data + 3 * x, 255u, op);
        darken_run_avx2(frame.data, n, op);
        INFO("trial " << trial << " n " << n << " opacity " << op);
        REQUIRE(cv::countNonZero(frame.reshape(1) != expected.reshape(1)) == 0);
    }
}
