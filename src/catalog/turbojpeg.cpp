#include "catalog/turbojpeg.h"

#include <climits>
#include <utility>

#include "base/fresh_image.h"

namespace cardsynth {

TurboJpeg::TurboJpeg(Kind kind)
    : handle_(kind == Kind::Compressor ? tjInitCompress() : tjInitDecompress()) {
    if (handle_ == nullptr)
        throw JpegError(std::string("cannot create a JPEG ") +
                        (kind == Kind::Compressor ? "compressor: " : "decompressor: ") +
                        tjGetErrorStr2(nullptr));
}

TurboJpeg::~TurboJpeg() {
    if (buffer_ != nullptr) tjFree(buffer_);
    // tjDestroy fails only for a handle that is not one; there is nothing left to do about it.
    if (handle_ != nullptr) (void)tjDestroy(handle_);
}

TurboJpeg::TurboJpeg(TurboJpeg&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      buffer_(std::exchange(other.buffer_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)) {}

TurboJpeg& TurboJpeg::operator=(TurboJpeg&& other) noexcept {
    if (this != &other) {
        TurboJpeg old(std::move(*this));
        handle_ = std::exchange(other.handle_, nullptr);
        buffer_ = std::exchange(other.buffer_, nullptr);
        capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
}

TurboJpeg& TurboJpeg::thread_compressor() {
    thread_local TurboJpeg handle(Kind::Compressor);
    return handle;
}

TurboJpeg& TurboJpeg::thread_decompressor() {
    thread_local TurboJpeg handle(Kind::Decompressor);
    return handle;
}

std::string TurboJpeg::reason() const {
    return tjGetErrorStr2(handle_);
}

JpegHeader TurboJpeg::read_header(const uint8_t* data, size_t size) {
    if (handle_ == nullptr) throw JpegError("cannot read a JPEG header: the handle was moved from");
    JpegHeader header;
    if (tjDecompressHeader3(handle_, data, static_cast<unsigned long>(size), &header.width,
                            &header.height, &header.subsampling, &header.colorspace) != 0)
        throw JpegError("corrupt JPEG header: " + reason());
    // A stream of tables alone (or one cut before its frame header) passes with a size of 0.
    if (header.width < 1 || header.height < 1)
        throw JpegError("corrupt JPEG header: no image in " + std::to_string(size) + " bytes");
    return header;
}

void TurboJpeg::decompress(const uint8_t* data, size_t size, cv::Mat& out, int pixel_format,
                           int flags) {
    if (handle_ == nullptr) throw JpegError("cannot decode a JPEG: the handle was moved from");
    if (pixel_format < 0 || pixel_format >= TJ_NUMPF || out.empty() || out.depth() != CV_8U ||
        out.channels() != tjPixelSize[pixel_format])
        throw JpegError("cannot decode a JPEG into a " + std::to_string(out.cols) + "x" +
                        std::to_string(out.rows) + " image of type " + std::to_string(out.type()) +
                        " as pixel format " + std::to_string(pixel_format));
    if (tjDecompress2(handle_, data, static_cast<unsigned long>(size), out.data, out.cols,
                      static_cast<int>(out.step[0]), out.rows, pixel_format, flags) != 0) {
        const bool warning = tjGetErrorCode(handle_) == TJERR_WARNING;
        throw JpegError((warning ? "truncated or corrupt JPEG data: " : "JPEG decode failed: ") +
                        reason());
    }
}

cv::Mat TurboJpeg::decompress_rgb(const uint8_t* data, size_t size, const JpegHeader& header) {
    cv::Mat rgb = fresh_image(header.height, header.width, CV_8UC3);
    decompress(data, size, rgb, TJPF_RGB, TJFLAG_STOPONWARNING);
    return rgb;
}

void TurboJpeg::compress_rgb(const cv::Mat& rgb, int quality, int subsampling,
                             std::vector<uint8_t>& out) {
    if (handle_ == nullptr) throw JpegError("cannot compress a JPEG: the handle was moved from");
    if (rgb.empty() || rgb.type() != CV_8UC3)
        throw JpegError("cannot compress an image of type " + std::to_string(rgb.type()) +
                        " to JPEG: expected a non-empty RGB8 image");
    unsigned long size = tjBufSize(rgb.cols, rgb.rows, subsampling);
    if (size == static_cast<unsigned long>(-1))
        throw JpegError("JPEG compression failed: no buffer size for " + std::to_string(rgb.cols) +
                        "x" + std::to_string(rgb.rows) + ": " + tjGetErrorStr2(nullptr));
    if (size > capacity_) {
        if (buffer_ != nullptr) tjFree(buffer_);
        capacity_ = 0;
        buffer_ =
            size <= static_cast<unsigned long>(INT_MAX) ? tjAlloc(static_cast<int>(size)) : nullptr;
        if (buffer_ == nullptr)
            throw JpegError("cannot allocate " + std::to_string(size) + " bytes for a JPEG frame");
        capacity_ = size;
    }
    unsigned char* data = buffer_;
    // The default (accurate) DCT: the fast one costs visible quality at high settings.
    if (tjCompress2(handle_, rgb.data, rgb.cols, static_cast<int>(rgb.step[0]), rgb.rows, TJPF_RGB,
                    &data, &size, subsampling, quality, TJFLAG_NOREALLOC) != 0)
        throw JpegError("JPEG compression failed: " + reason());
    out.assign(data, data + size);
}

cv::Size TurboJpeg::scaled_size(int width, int height, int denom) {
    cv::Size size(width, height);
    if (denom <= 1) return size;
    int count = 0;
    const tjscalingfactor* factors = tjGetScalingFactors(&count);
    // TurboJPEG fails here only when it has no table at all: then the full size is the one scale.
    if (factors == nullptr) return size;
    for (int i = 0; i < count; ++i)
        if (factors[i].num == 1 && factors[i].denom == denom)
            size = cv::Size(TJSCALED(width, factors[i]), TJSCALED(height, factors[i]));
    return size;
}

}  // namespace cardsynth
