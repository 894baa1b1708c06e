#include "encode/encode.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"

namespace cardsynth {
namespace {

// The largest frame the configuration allows (16384 x 16384); a header claiming more is corrupt,
// and refusing it keeps a damaged file from asking for gigabytes.
constexpr long long kMaxDecodedPixels = 16384LL * 16384LL;

// One TurboJPEG handle per thread and kind: creating one costs more than compressing a small
// frame, and a handle must not be shared between threads.
class TjHandle {
  public:
    explicit TjHandle(bool compress) : handle_(compress ? tjInitCompress() : tjInitDecompress()) {}
    ~TjHandle() {
        if (handle_ != nullptr) tjDestroy(handle_);
    }
    TjHandle(const TjHandle&) = delete;
    TjHandle& operator=(const TjHandle&) = delete;
    tjhandle get() const { return handle_; }

  private:
    tjhandle handle_;
};

// The compressor's output buffer, kept per thread and grown only when a frame needs more, so
// that steady-state encoding allocates nothing inside TurboJPEG.
class TjBuffer {
  public:
    ~TjBuffer() {
        if (data_ != nullptr) tjFree(data_);
    }
    unsigned char* reserve(unsigned long size) {
        if (size > capacity_) {
            if (data_ != nullptr) tjFree(data_);
            data_ = tjAlloc(static_cast<int>(size));
            capacity_ = data_ != nullptr ? size : 0;
        }
        return data_;
    }

  private:
    unsigned char* data_ = nullptr;
    unsigned long capacity_ = 0;
};

tjhandle compressor() {
    thread_local TjHandle handle(true);
    if (handle.get() == nullptr)
        throw DatasetError(std::string("cannot create a JPEG compressor: ") +
                           tjGetErrorStr2(nullptr));
    return handle.get();
}

tjhandle decompressor() {
    thread_local TjHandle handle(false);
    if (handle.get() == nullptr)
        throw DatasetError(std::string("cannot create a JPEG decompressor: ") +
                           tjGetErrorStr2(nullptr));
    return handle.get();
}

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
    thread_local TjBuffer buffer;
    tjhandle handle = compressor();
    unsigned long size = tjBufSize(rgb.cols, rgb.rows, TJSAMP_420);
    unsigned char* data = buffer.reserve(size);
    if (data == nullptr)
        throw DatasetError("cannot allocate " + std::to_string(size) + " bytes for a JPEG frame");
    // The default (accurate) DCT: the fast one costs visible quality at high settings.
    if (tjCompress2(handle, rgb.data, rgb.cols, static_cast<int>(rgb.step[0]), rgb.rows, TJPF_RGB,
                    &data, &size, TJSAMP_420, std::clamp(quality, 1, 100), TJFLAG_NOREALLOC) != 0)
        throw DatasetError(std::string("JPEG compression failed: ") + tjGetErrorStr2(handle));
    out.assign(data, data + size);
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
    tjhandle handle = decompressor();
    int width = 0, height = 0, subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(handle, data, static_cast<unsigned long>(size), &width, &height,
                            &subsamp, &colorspace) != 0)
        throw DatasetError(std::string("corrupt JPEG image: ") + tjGetErrorStr2(handle));
    if (width <= 0 || height <= 0 || static_cast<long long>(width) * height > kMaxDecodedPixels)
        throw DatasetError("corrupt JPEG image: implausible size " + std::to_string(width) + "x" +
                           std::to_string(height));
    cv::Mat rgb(height, width, CV_8UC3);
    // A warning (a truncated stream, say) still means the stored bytes are damaged.
    if (tjDecompress2(handle, data, static_cast<unsigned long>(size), rgb.data, width,
                      static_cast<int>(rgb.step[0]), height, TJPF_RGB, TJFLAG_STOPONWARNING) != 0)
        throw DatasetError(std::string("corrupt JPEG image: ") + tjGetErrorStr2(handle));
    return rgb;
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
