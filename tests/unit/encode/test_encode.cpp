// Encoding frames to raw, JPEG and PNG bytes and back.
#include <turbojpeg.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "base/error.h"
#include "encode/encode.h"

using namespace cardsynth;

namespace {

// Smooth gradients with a soft blob: what JPEG at quality 90 keeps almost exactly.
cv::Mat smooth_image(int w, int h, int variant = 0) {
    cv::Mat img(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double blob =
                60.0 * std::exp(-((x - w / 2.0) * (x - w / 2.0) + (y - h / 3.0) * (y - h / 3.0)) /
                                (0.05 * w * w));
            img.at<cv::Vec3b>(y, x) = cv::Vec3b(
                cv::saturate_cast<uint8_t>(40 + 150.0 * x / w + blob),
                cv::saturate_cast<uint8_t>(200 - 120.0 * y / h + variant),
                cv::saturate_cast<uint8_t>(90 + 50.0 * std::sin(x * 0.05) + 30.0 * y / h));
        }
    return img;
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    const cv::Scalar mean = cv::mean(diff);
    return (mean[0] + mean[1] + mean[2]) / 3.0;
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

}  // namespace

TEST_CASE("raw storage is the pixels, row-major RGB", "[encode]") {
    const cv::Mat img = smooth_image(37, 21);
    std::vector<uint8_t> bytes;
    encode_image(img, Storage::Raw, 90, bytes);
    REQUIRE(bytes.size() == 37u * 21u * 3u);
    CHECK(bytes[0] == img.at<cv::Vec3b>(0, 0)[0]);
    CHECK(bytes[(5 * 37 + 7) * 3 + 2] == img.at<cv::Vec3b>(5, 7)[2]);
    const cv::Mat back(21, 37, CV_8UC3, bytes.data());
    CHECK(identical(back, img));
}

TEST_CASE("raw storage copies a non-continuous view row by row", "[encode]") {
    const cv::Mat big = smooth_image(64, 48);
    const cv::Mat view = big(cv::Rect(5, 3, 30, 20));
    REQUIRE_FALSE(view.isContinuous());
    std::vector<uint8_t> bytes;
    encode_image(view, Storage::Raw, 90, bytes);
    REQUIRE(bytes.size() == 30u * 20u * 3u);
    CHECK(identical(cv::Mat(20, 30, CV_8UC3, bytes.data()), view));
}

TEST_CASE("JPEG decodes close to the original and is 4:2:0", "[encode]") {
    const cv::Mat img = smooth_image(160, 96);
    std::vector<uint8_t> bytes;
    encode_image(img, Storage::Jpeg, 90, bytes);
    REQUIRE(bytes.size() > 2);
    CHECK(bytes[0] == 0xFF);
    CHECK(bytes[1] == 0xD8);
    CHECK(bytes.size() < img.total() * 3);

    tjhandle handle = tjInitDecompress();
    int w = 0, h = 0, subsamp = -1, colorspace = -1;
    REQUIRE(tjDecompressHeader3(handle, bytes.data(), bytes.size(), &w, &h, &subsamp,
                                &colorspace) == 0);
    tjDestroy(handle);
    CHECK(w == 160);
    CHECK(h == 96);
    CHECK(subsamp == TJSAMP_420);

    const cv::Mat back = decode_image(bytes.data(), bytes.size());
    REQUIRE(back.size() == img.size());
    REQUIRE(back.type() == CV_8UC3);
    CHECK(mean_abs_diff(back, img) < 3.0);
    // Channel order survives: red is the channel that grows along x.
    CHECK(back.at<cv::Vec3b>(48, 150)[0] > back.at<cv::Vec3b>(48, 10)[0] + 100);
}

TEST_CASE("JPEG quality changes the bytes", "[encode]") {
    const cv::Mat img = smooth_image(128, 128);
    std::vector<uint8_t> low, high;
    encode_image(img, Storage::Jpeg, 20, low);
    encode_image(img, Storage::Jpeg, 95, high);
    CHECK(low.size() < high.size());
    CHECK(mean_abs_diff(decode_image(high.data(), high.size()), img) <
          mean_abs_diff(decode_image(low.data(), low.size()), img));
}

TEST_CASE("JPEG of a non-continuous view matches JPEG of its copy", "[encode]") {
    const cv::Mat big = smooth_image(200, 120);
    const cv::Mat view = big(cv::Rect(17, 9, 90, 70));
    std::vector<uint8_t> a, b;
    encode_image(view, Storage::Jpeg, 85, a);
    encode_image(view.clone(), Storage::Jpeg, 85, b);
    CHECK(a == b);
}

TEST_CASE("PNG round-trips exactly", "[encode]") {
    const cv::Mat img = smooth_image(71, 45);
    std::vector<uint8_t> bytes;
    encode_image(img, Storage::Png, 90, bytes);
    REQUIRE(bytes.size() > 8);
    CHECK(bytes[0] == 0x89);
    CHECK(bytes[1] == 'P');
    const cv::Mat back = decode_image(bytes.data(), bytes.size());
    CHECK(identical(back, img));
}

TEST_CASE("encoding is deterministic, twice and across threads", "[encode]") {
    constexpr int kImages = 12;
    std::vector<cv::Mat> images;
    for (int i = 0; i < kImages; ++i) images.push_back(smooth_image(96 + 8 * i, 64, i * 3));
    for (Storage storage : {Storage::Raw, Storage::Jpeg, Storage::Png}) {
        std::vector<std::vector<uint8_t>> serial(kImages), parallel(kImages);
        for (int i = 0; i < kImages; ++i) encode_image(images[i], storage, 90, serial[i]);
        std::vector<uint8_t> again;
        encode_image(images[3], storage, 90, again);
        CHECK(again == serial[3]);
        // Large frames first, so that each thread's reused buffer also meets smaller ones.
#pragma omp parallel for schedule(dynamic, 1) num_threads(4)
        for (int i = kImages - 1; i >= 0; --i) encode_image(images[i], storage, 90, parallel[i]);
        for (int i = 0; i < kImages; ++i) CHECK(parallel[i] == serial[i]);
    }
}

TEST_CASE("corrupt bytes are a DatasetError", "[encode]") {
    const cv::Mat img = smooth_image(64, 64);
    std::vector<uint8_t> jpeg, png;
    encode_image(img, Storage::Jpeg, 90, jpeg);
    encode_image(img, Storage::Png, 90, png);

    const std::vector<uint8_t> garbage{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK_THROWS_AS(decode_image(garbage.data(), garbage.size()), DatasetError);
    CHECK_THROWS_AS(decode_image(jpeg.data(), 1), DatasetError);
    CHECK_THROWS_AS(decode_image(nullptr, 0), DatasetError);

    std::vector<uint8_t> truncated_jpeg(jpeg.begin(), jpeg.begin() + jpeg.size() / 2);
    CHECK_THROWS_AS(decode_image(truncated_jpeg.data(), truncated_jpeg.size()), DatasetError);
    std::vector<uint8_t> broken_jpeg = jpeg;
    for (size_t i = 2; i < 40 && i < broken_jpeg.size(); ++i) broken_jpeg[i] = 0x00;
    CHECK_THROWS_AS(decode_image(broken_jpeg.data(), broken_jpeg.size()), DatasetError);

    std::vector<uint8_t> truncated_png(png.begin(), png.begin() + png.size() / 2);
    CHECK_THROWS_AS(decode_image(truncated_png.data(), truncated_png.size()), DatasetError);
    std::vector<uint8_t> header_only(png.begin(), png.begin() + 8);
    CHECK_THROWS_AS(decode_image(header_only.data(), header_only.size()), DatasetError);
}

TEST_CASE("only RGB8 images are encoded", "[encode]") {
    std::vector<uint8_t> bytes;
    CHECK_THROWS_AS(encode_image(cv::Mat(), Storage::Jpeg, 90, bytes), DatasetError);
    CHECK_THROWS_AS(encode_image(cv::Mat(8, 8, CV_8UC1, cv::Scalar(3)), Storage::Png, 90, bytes),
                    DatasetError);
    CHECK_THROWS_AS(encode_image(cv::Mat(8, 8, CV_32FC3), Storage::Raw, 90, bytes), DatasetError);
}
