#include "catalog/card_image.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "catalog/image_probe.h"
#include "catalog/turbojpeg.h"

namespace cardsynth {
namespace {

// Reads the whole file; the bytes checked by the probe are the bytes given to the decoder. The
// modification time is taken before reading, so that a change while reading shows as a change.
std::string read_file(const std::string& path, std::vector<uint8_t>& bytes,
                      int64_t* mtime_ns = nullptr) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return std::string("cannot stat: ") + std::strerror(errno);
    if (mtime_ns) *mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    if (!S_ISREG(st.st_mode))
        return S_ISDIR(st.st_mode) ? "not a regular file (a directory)" : "not a regular file";
    if (st.st_size == 0) return "empty file (0 bytes)";
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) return std::string("cannot open: ") + std::strerror(errno);
    bytes.resize(static_cast<size_t>(st.st_size));
    const size_t got = std::fread(bytes.data(), 1, bytes.size(), file.get());
    if (got != bytes.size()) {
        if (std::ferror(file.get())) return std::string("read error: ") + std::strerror(errno);
        bytes.resize(got);  // the file shrank since stat
    }
    if (bytes.empty()) return "empty file (0 bytes)";
    return "";
}

std::string check_header(const std::vector<uint8_t>& bytes, int64_t max_pixels,
                         ImageHeader& header) {
    std::string why;
    if (!probe_image_header(bytes.data(), bytes.size(), header, why)) return why;
    if (header.width < 2 || header.height < 2)
        return "image is " + std::to_string(header.width) + "x" + std::to_string(header.height) +
               ", smaller than 2x2";
    // Compared without multiplying, so that absurd declared sizes cannot overflow.
    if (max_pixels > 0 && header.width > max_pixels / header.height)
        return "declares " + std::to_string(header.width) + "x" + std::to_string(header.height) +
               " pixels, more than max_pixels " + std::to_string(max_pixels);
    return "";
}

// Photoshop writes CMYK inverted (255 = no ink) and marks its files with an APP14 "Adobe"
// segment; libjpeg-turbo follows the same convention. Plain CMYK has no such marker.
bool has_adobe_marker(const std::vector<uint8_t>& bytes) {
    size_t pos = 2;
    while (pos + 4 <= bytes.size() && bytes[pos] == 0xFF) {
        const uint8_t marker = bytes[pos + 1];
        if (marker == 0xDA || marker == 0xD9) break;
        const size_t length = (size_t(bytes[pos + 2]) << 8) | bytes[pos + 3];
        if (length < 2) break;
        if (marker == 0xEE && length >= 7 && pos + 9 <= bytes.size() &&
            std::memcmp(&bytes[pos + 4], "Adobe", 5) == 0)
            return true;
        pos += 2 + length;
    }
    return false;
}

// Decodes a JPEG with TurboJPEG at 1/`denom` scale (1 = full size). A warning (premature end of
// data, corrupt entropy data) counts as a failure: the card would show grey bands. Throws
// JpegError when TurboJPEG refuses the bytes.
std::string decode_jpeg(const std::vector<uint8_t>& bytes, int denom, int64_t max_pixels,
                        cv::Mat* rgba, int& width, int& height) {
    TurboJpeg& tj = TurboJpeg::thread_decompressor();
    const JpegHeader header = tj.read_header(bytes.data(), bytes.size());
    const int w = header.width, h = header.height;
    width = w;
    height = h;
    // The decoder's own idea of the size is what it allocates for; refuse it here too, in case
    // it read a different frame header than the probe did.
    if (w < 2 || h < 2 || (max_pixels > 0 && w > max_pixels / h))
        return "decoder reports " + std::to_string(w) + "x" + std::to_string(h) +
               ", outside 2x2..max_pixels";
    const cv::Size scaled = TurboJpeg::scaled_size(w, h, denom);
    const int sw = scaled.width, sh = scaled.height;
    const bool cmyk = header.cmyk();
    // Decoded straight into the result: a second full-size buffer costs more than the decode.
    cv::Mat result(sh, sw, CV_8UC4);
    // The fast DCT only for validation, where the pixels are thrown away.
    const int flags = TJFLAG_STOPONWARNING | (rgba == nullptr ? TJFLAG_FASTDCT : 0);
    tj.decompress(bytes.data(), bytes.size(), result, cmyk ? TJPF_CMYK : TJPF_RGBA, flags);
    if (!rgba) return "";
    if (cmyk) {
        const bool inverted = has_adobe_marker(bytes);
        for (int y = 0; y < sh; ++y) {
            uint8_t* p = result.ptr<uint8_t>(y);
            for (int x = 0; x < sw; ++x, p += 4) {
                int c = p[0], m = p[1], ye = p[2], k = p[3];
                if (!inverted) c = 255 - c, m = 255 - m, ye = 255 - ye, k = 255 - k;
                p[0] = static_cast<uint8_t>((c * k + 127) / 255);
                p[1] = static_cast<uint8_t>((m * k + 127) / 255);
                p[2] = static_cast<uint8_t>((ye * k + 127) / 255);
                p[3] = 255;
            }
        }
    }
    *rgba = result;
    return "";
}

// PNG and WebP through OpenCV, converted to RGBA8 whatever the depth and channel count.
std::string decode_other(const std::vector<uint8_t>& bytes, cv::Mat* rgba, int& width,
                         int& height) {
    cv::Mat raw;
    try {
        const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                             const_cast<uint8_t*>(bytes.data()));
        raw = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        return std::string("decode failed: ") + e.what();
    }
    if (raw.empty()) return "decode failed (truncated or corrupt image data)";
    width = raw.cols;
    height = raw.rows;
    if (!rgba) return "";
    cv::Mat eight;
    if (raw.depth() == CV_8U) {
        eight = raw;
    } else if (raw.depth() == CV_16U) {
        // The high byte, truncated: 0xFFFF -> 0xFF, and no value rounds up past it.
        eight.create(raw.rows, raw.cols, CV_MAKETYPE(CV_8U, raw.channels()));
        const int n = raw.cols * raw.channels();
        for (int y = 0; y < raw.rows; ++y) {
            const uint16_t* in = raw.ptr<uint16_t>(y);
            uint8_t* o = eight.ptr<uint8_t>(y);
            for (int x = 0; x < n; ++x) o[x] = static_cast<uint8_t>(in[x] >> 8);
        }
    } else if (raw.depth() == CV_32F) {
        raw.convertTo(eight, CV_8U, 255.0);
    } else {
        return "unsupported pixel depth";
    }
    cv::Mat result;
    switch (eight.channels()) {
        case 1:
            cv::cvtColor(eight, result, cv::COLOR_GRAY2RGBA);
            break;
        case 2: {
            std::vector<cv::Mat> planes;
            cv::split(eight, planes);
            cv::merge(std::vector<cv::Mat>{planes[0], planes[0], planes[0], planes[1]}, result);
            break;
        }
        case 3:
            cv::cvtColor(eight, result, cv::COLOR_BGR2RGBA);
            break;
        case 4:
            cv::cvtColor(eight, result, cv::COLOR_BGRA2RGBA);
            break;
        default:
            return "unsupported channel count " + std::to_string(eight.channels());
    }
    *rgba = result;
    return "";
}

std::string decode(const std::vector<uint8_t>& bytes, const ImageHeader& header, int64_t max_pixels,
                   int denom, cv::Mat* rgba, int& width, int& height) {
    std::string why;
    try {
        why = header.format == ImageFormat::Jpeg
                  ? decode_jpeg(bytes, denom, max_pixels, rgba, width, height)
                  : decode_other(bytes, rgba, width, height);
    } catch (const JpegError& e) {
        why = e.what();
    }
    if (!why.empty()) return why;
    if (width < 2 || height < 2)
        return "image is " + std::to_string(width) + "x" + std::to_string(height) +
               ", smaller than 2x2";
    if (max_pixels > 0 && width > max_pixels / height)
        return "decodes to " + std::to_string(width) + "x" + std::to_string(height) +
               " pixels, more than max_pixels " + std::to_string(max_pixels);
    return "";
}

}  // namespace

std::string check_card_file(const std::string& path, int64_t max_pixels, int& width, int& height,
                            FileStamp* stamp) {
    std::vector<uint8_t> bytes;
    int64_t mtime_ns = 0;
    std::string why = read_file(path, bytes, &mtime_ns);
    if (!why.empty()) return why;
    if (stamp)
        *stamp = {static_cast<int64_t>(bytes.size()), mtime_ns, xxh64(bytes.data(), bytes.size())};
    ImageHeader header;
    why = check_header(bytes, max_pixels, header);
    if (!why.empty()) return why;
    // JPEG is validated at 1/8 scale: every entropy-coded byte is still read, so truncation
    // shows, at a fraction of the cost of a full decode.
    int w = 0, h = 0;
    why = decode(bytes, header, max_pixels, 8, nullptr, w, h);
    if (!why.empty()) return why;
    width = w;
    height = h;
    return "";
}

cv::Mat load_card_rgba(const std::string& path, int64_t max_pixels, int min_height) {
    std::vector<uint8_t> bytes;
    std::string why = read_file(path, bytes);
    ImageHeader header;
    if (why.empty()) why = check_header(bytes, max_pixels, header);
    // A JPEG decodes at 1/2, 1/4 or 1/8 scale in a fraction of the time, when that still gives
    // at least min_height rows.
    int denom = 1;
    if (why.empty() && min_height > 0 && header.format == ImageFormat::Jpeg)
        for (int d : {8, 4, 2})
            if (denom == 1 && (header.height + d - 1) / d >= min_height) denom = d;
    cv::Mat rgba;
    int w = 0, h = 0;
    if (why.empty()) why = decode(bytes, header, max_pixels, denom, &rgba, w, h);
    if (!why.empty()) throw InputError("card '" + path + "': " + why);
    return rgba;
}

}  // namespace cardsynth
