// The TurboJPEG handle: a round trip through its compress and decode calls, errors that say which
// step failed, and a handle that is safe to use after it was moved from.
#include <cstdint>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "catalog/turbojpeg.h"

using namespace cardsynth;

namespace {

// Smooth gradients: what JPEG at quality 90 keeps almost exactly.
cv::Mat gradient_rgb(int w, int h) {
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            img.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(40 + 150 * x / w),
                                                static_cast<uint8_t>(200 - 120 * y / h),
                                                static_cast<uint8_t>(90 + 60 * (x + y) / (w + h)));
    return img;
}

std::vector<uint8_t> jpeg_of(const cv::Mat& rgb) {
    std::vector<uint8_t> bytes;
    TurboJpeg(TurboJpeg::Kind::Compressor).compress_rgb(rgb, 90, TJSAMP_420, bytes);
    return bytes;
}

}  // namespace

static_assert(!std::is_copy_constructible_v<TurboJpeg> && !std::is_copy_assignable_v<TurboJpeg>,
              "a copy would destroy the handle twice");
static_assert(std::is_nothrow_move_constructible_v<TurboJpeg> &&
                  std::is_nothrow_move_assignable_v<TurboJpeg>,
              "handles move");

TEST_CASE("RGB survives a JPEG round trip", "[turbojpeg]") {
    const cv::Mat img = gradient_rgb(160, 96);
    const std::vector<uint8_t> bytes = jpeg_of(img);
    REQUIRE(bytes.size() > 2);
    CHECK(bytes[0] == 0xFF);
    CHECK(bytes[1] == 0xD8);

    TurboJpeg tj(TurboJpeg::Kind::Decompressor);
    const JpegHeader header = tj.read_header(bytes.data(), bytes.size());
    CHECK(header.width == 160);
    CHECK(header.height == 96);
    CHECK(header.subsampling == TJSAMP_420);
    CHECK_FALSE(header.cmyk());
    const cv::Mat back = tj.decompress_rgb(bytes.data(), bytes.size(), header);
    REQUIRE(back.size() == img.size());
    REQUIRE(back.type() == CV_8UC3);
    // Mean absolute difference per channel value.
    CHECK(cv::norm(back, img, cv::NORM_L1) / static_cast<double>(img.total() * 3) < 2.0);
}

TEST_CASE("a decode at a reduced scale fills an image of the scaled size", "[turbojpeg]") {
    const std::vector<uint8_t> bytes = jpeg_of(gradient_rgb(160, 96));
    CHECK(TurboJpeg::scaled_size(160, 96, 1) == cv::Size(160, 96));
    CHECK(TurboJpeg::scaled_size(160, 96, 4) == cv::Size(40, 24));
    CHECK(TurboJpeg::scaled_size(161, 97, 8) == cv::Size(21, 13));
    cv::Mat quarter(24, 40, CV_8UC4);
    TurboJpeg::thread_decompressor().decompress(bytes.data(), bytes.size(), quarter, TJPF_RGBA,
                                                TJFLAG_STOPONWARNING);
    CHECK(quarter.at<cv::Vec4b>(10, 20)[3] == 255);
}

TEST_CASE("the compressor's buffer grows for a larger frame", "[turbojpeg]") {
    TurboJpeg tj(TurboJpeg::Kind::Compressor);
    std::vector<uint8_t> small, large;
    tj.compress_rgb(gradient_rgb(16, 16), 90, TJSAMP_420, small);
    tj.compress_rgb(gradient_rgb(640, 480), 90, TJSAMP_420, large);
    TurboJpeg& d = TurboJpeg::thread_decompressor();
    CHECK(d.read_header(small.data(), small.size()).width == 16);
    CHECK(d.read_header(large.data(), large.size()).width == 640);
}

TEST_CASE("corrupt bytes are a JpegError naming the step", "[turbojpeg]") {
    TurboJpeg tj(TurboJpeg::Kind::Decompressor);
    const std::vector<uint8_t> garbage{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    CHECK_THROWS_WITH(tj.read_header(garbage.data(), garbage.size()),
                      Catch::StartsWith("corrupt JPEG header: "));
    const std::vector<uint8_t> no_frame{0xFF, 0xD8, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
    CHECK_THROWS_WITH(tj.read_header(no_frame.data(), no_frame.size()),
                      Catch::StartsWith("corrupt JPEG header: "));

    const std::vector<uint8_t> bytes = jpeg_of(gradient_rgb(160, 96));
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + bytes.size() / 2);
    const JpegHeader header = tj.read_header(cut.data(), cut.size());
    CHECK_THROWS_AS(tj.decompress_rgb(cut.data(), cut.size(), header), JpegError);
    CHECK_THROWS_WITH(tj.decompress_rgb(cut.data(), cut.size(), header),
                      Catch::StartsWith("truncated or corrupt JPEG data: "));

    // The handle still works after an error.
    CHECK(tj.decompress_rgb(bytes.data(), bytes.size(), header).cols == 160);

    cv::Mat wrong(96, 160, CV_8UC3);
    CHECK_THROWS_WITH(tj.decompress(bytes.data(), bytes.size(), wrong, TJPF_RGBA, 0),
                      Catch::Contains("pixel format"));
    std::vector<uint8_t> out;
    CHECK_THROWS_AS(TurboJpeg(TurboJpeg::Kind::Compressor)
                        .compress_rgb(cv::Mat(4, 4, CV_8UC4), 90, TJSAMP_420, out),
                    JpegError);
}

TEST_CASE("a moved-from handle throws instead of crashing", "[turbojpeg]") {
    const std::vector<uint8_t> bytes = jpeg_of(gradient_rgb(32, 16));
    TurboJpeg a(TurboJpeg::Kind::Decompressor);
    TurboJpeg b(std::move(a));
    CHECK(b.read_header(bytes.data(), bytes.size()).width == 32);
    CHECK_THROWS_WITH(a.read_header(bytes.data(), bytes.size()), Catch::Contains("moved from"));

    TurboJpeg c(TurboJpeg::Kind::Compressor);
    std::vector<uint8_t> out;
    c.compress_rgb(gradient_rgb(8, 8), 90, TJSAMP_420, out);
    TurboJpeg d(TurboJpeg::Kind::Compressor);
    d = std::move(c);  // d's own handle is destroyed, c's buffer moves along
    d.compress_rgb(gradient_rgb(8, 8), 90, TJSAMP_420, out);
    CHECK(out.size() > 2);
    CHECK_THROWS_WITH(c.compress_rgb(gradient_rgb(8, 8), 90, TJSAMP_420, out),
                      Catch::Contains("moved from"));
    cv::Mat rgb(16, 32, CV_8UC3);
    CHECK_THROWS_AS(a.decompress(bytes.data(), bytes.size(), rgb, TJPF_RGB, 0), JpegError);
}

TEST_CASE("each thread has its own handles", "[turbojpeg]") {
    TurboJpeg* here = &TurboJpeg::thread_compressor();
    CHECK(&TurboJpeg::thread_compressor() == here);
    bool own = false;
    std::thread([&] { own = &TurboJpeg::thread_compressor() != here; }).join();
    CHECK(own);
}
