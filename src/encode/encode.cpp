#include "encode/encode.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "catalog/turbojpeg.h"

namespace cardsynth {
namespace {

// The largest frame the configuration allows (16384 x 16384); a header claiming more is corrupt,
// and refusing it keeps a damaged file from asking for gigabytes.
constexpr long long kMaxDecodedPixels = 16384LL * 16384LL;

void check_rgb8(const cv::Mat& rgb) {
    if (rgb.empty() || rgb.type() != CV_8UC3)
        throw DatasetError("cannot encode an image of type " + std::to_string(rgb.type()) +
                           " and size " + std::to_string(rgb.cols) + "x" +
                           std::to_string(rgb.rows) + ": expected a non-empty RGB8 image");
}

void encode_raw(const cv::Mat& rgb, std::vector<uint8_t>& out) {
    const size_t row_bytes = static_cast<size_t>(rgb.cols) * 3;
    out.resize(row_bytes * static_cast<size_t>(rgb.rows));
    if (rgb.isContinuous()) {
        std::memcpy(out.data(), rgb.data, out.size());
        return;
    }
    for (int y = 0; y < rgb.rows; ++y)
        std::memcpy(out.data() + y * row_bytes, rgb.ptr(y), row_bytes);
}

void encode_jpeg(const cv::Mat& rgb, int quality, std::vector<uint8_t>& out) {
    try {
        TurboJpeg::thread_compressor().compress_rgb(rgb, std::clamp(quality, 1, 100), TJSAMP_420,
                                                    out);
    } catch (const JpegError& e) {
        throw DatasetError(e.what());
    }
}

void encode_png(const cv::Mat& rgb, std::vector<uint8_t>& out) {
    thread_local cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    // Level 1: most of the size gain of zlib for a fraction of the time of the default level.
    const std::vector<int> params{cv::IMWRITE_PNG_COMPRESSION, 1};
    try {
        if (!cv::imencode(".png", bgr, out, params)) throw DatasetError("PNG compression failed");
    } catch (const cv::Exception& e) {
        throw DatasetError(std::string("PNG compression failed: ") + e.what());
    }
}

cv::Mat decode_jpeg(const uint8_t* data, size_t size) {
    try {
        TurboJpeg& tj = TurboJpeg::thread_decompressor();
        const JpegHeader header = tj.read_header(data, size);
        if (static_cast<long long>(header.width) * header.height > kMaxDecodedPixels)
            throw DatasetError("corrupt JPEG image: implausible size " +
                               std::to_string(header.width) + "x" + std::to_string(header.height));
        // A warning (a truncated stream, say) still means the stored bytes are damaged.
        return tj.decompress_rgb(data, size, header);
    } catch (const JpegError& e) {
        throw DatasetError(e.what());
    }
}

cv::Mat decode_png(const uint8_t* data, size_t size) {
    cv::Mat bgr;
    try {
        const cv::Mat bytes(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data));
        bgr = cv::imdecode(bytes, cv::IMREAD_COLOR);
    } catch (const cv::Exception& e) {
        throw DatasetError(std::string("corrupt PNG image: ") + e.what());
    }
    if (bgr.empty()) throw DatasetError("corrupt PNG image: it cannot be decoded");
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

}  // namespace

void encode_image(const cv::Mat& rgb, Storage storage, int jpeg_quality,
                  std::vector<uint8_t>& out) {
    check_rgb8(rgb);
    switch (storage) {
        case Storage::Raw:
            encode_raw(rgb, out);
            return;
        case Storage::Jpeg:
            encode_jpeg(rgb, jpeg_quality, out);
            return;
        case Storage::Png:
            encode_png(rgb, out);
            return;
    }
    throw DatasetError("cannot encode with storage " + std::to_string(static_cast<int>(storage)));
}

void jpeg_round_trip(cv::Mat& rgb, int quality) {
    check_rgb8(rgb);
    thread_local std::vector<uint8_t> bytes;
    encode_jpeg(rgb, quality, bytes);
    try {
        TurboJpeg::thread_decompressor().decompress(bytes.data(), bytes.size(), rgb, TJPF_RGB,
                                                    TJFLAG_STOPONWARNING);
    } catch (const JpegError& e) {
        throw DatasetError(e.what());
    }
}

cv::Mat decode_image(const uint8_t* data, size_t size) {
    static const uint8_t kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (data == nullptr || size < 4)
        throw DatasetError("corrupt image: " + std::to_string(size) + " bytes is too short");
    if (data[0] == 0xFF && data[1] == 0xD8) return decode_jpeg(data, size);
    if (size >= sizeof(kPngMagic) && std::memcmp(data, kPngMagic, sizeof(kPngMagic)) == 0) {
        if (size > static_cast<size_t>(INT32_MAX))
            throw DatasetError("corrupt PNG image: " + std::to_string(size) +
                               " bytes is too large");
        return decode_png(data, size);
    }
    throw DatasetError("corrupt image: neither JPEG nor PNG (first bytes " +
                       std::to_string(data[0]) + " " + std::to_string(data[1]) + ")");
}

}  // namespace cardsynth
