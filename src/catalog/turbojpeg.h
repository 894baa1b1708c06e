// The one place that calls TurboJPEG: a handle that destroys itself, and the header, decode and
// encode calls the program makes through it, each return code checked and turned into a
// JpegError that says which step failed and TurboJPEG's reason.
#pragma once

#include <turbojpeg.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/error.h"

namespace cardsynth {

// A TurboJPEG call failed. Callers add the file or frame at fault and rethrow it as the error of
// their own layer (InputError, DatasetError), or keep it as a reason.
class JpegError : public Error {
  public:
    explicit JpegError(const std::string& what) : Error(what) {}
};

// What a JPEG's header declares.
struct JpegHeader {
    int width = 0;
    int height = 0;
    int subsampling = 0;  // TJSAMP_*
    int colorspace = 0;   // TJCS_*

    // CMYK and YCCK decode only to TJPF_CMYK, never straight to RGB.
    bool cmyk() const { return colorspace == TJCS_CMYK || colorspace == TJCS_YCCK; }
};

// A compressor or a decompressor. Movable, not copyable: a copy would destroy the handle twice.
// One handle must not be used by two threads at once; thread_compressor() and
// thread_decompressor() give each thread its own, made once, since making one costs more than
// compressing a small frame.
class TurboJpeg {
  public:
    enum class Kind { Compressor, Decompressor };

    explicit TurboJpeg(Kind kind);  // throws JpegError when TurboJPEG cannot make one
    ~TurboJpeg();
    TurboJpeg(TurboJpeg&& other) noexcept;
    TurboJpeg& operator=(TurboJpeg&& other) noexcept;
    TurboJpeg(const TurboJpeg&) = delete;
    TurboJpeg& operator=(const TurboJpeg&) = delete;

    static TurboJpeg& thread_compressor();
    static TurboJpeg& thread_decompressor();

    // The size and colour layout a JPEG declares, without decoding it; at least 1x1, since a
    // stream without a frame header cannot be decoded.
    JpegHeader read_header(const uint8_t* data, size_t size);

    // Decodes into `out`, already allocated, whose size picks the scale (the header's size or
    // one of scaled_size's) and whose channels match `pixel_format` (TJPF_*). With
    // TJFLAG_STOPONWARNING in `flags`, a warning (truncated or corrupt entropy data) is an error.
    void decompress(const uint8_t* data, size_t size, cv::Mat& out, int pixel_format, int flags);

    // The whole image as a new RGB8 image (R, G, B), a warning counting as an error. The header
    // is the one read_header gave for these bytes.
    cv::Mat decompress_rgb(const uint8_t* data, size_t size, const JpegHeader& header);

    // RGB8 (R, G, B) to JPEG bytes in `out`, through an output buffer the handle keeps and grows
    // only when a frame needs more, so that steady-state encoding allocates nothing inside
    // TurboJPEG. `quality` 1..100, `subsampling` TJSAMP_*.
    void compress_rgb(const cv::Mat& rgb, int quality, int subsampling, std::vector<uint8_t>& out);

    // The size a width x height image decodes to at 1/`denom` scale; the full size when
    // TurboJPEG has no such scale.
    static cv::Size scaled_size(int width, int height, int denom);

  private:
    std::string reason() const;

    tjhandle handle_ = nullptr;
    unsigned char* buffer_ = nullptr;  // the compressor's output, from tjAlloc
    unsigned long capacity_ = 0;
};

}  // namespace cardsynth
