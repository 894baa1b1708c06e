#include "catalog/image_probe.h"

#include <cstring>

namespace cardsynth {
namespace {

uint32_t be16(const uint8_t* p) {
    return (uint32_t(p[0]) << 8) | p[1];
}
uint32_t be32(const uint8_t* p) {
    return (be16(p) << 16) | be16(p + 2);
}
uint32_t le16(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8);
}
uint32_t le24(const uint8_t* p) {
    return le16(p) | (uint32_t(p[2]) << 16);
}
uint32_t le32(const uint8_t* p) {
    return le24(p) | (uint32_t(p[3]) << 24);
}

const char* kTruncated = "truncated header";

bool probe_png(const uint8_t* data, size_t size, ImageHeader& out, std::string& why) {
    // Signature, then the IHDR chunk, which the format requires to come first.
    if (size < 24) return why = kTruncated, false;
    if (std::memcmp(data + 12, "IHDR", 4) != 0) return why = "PNG without an IHDR chunk", false;
    out.format = ImageFormat::Png;
    out.width = be32(data + 16);
    out.height = be32(data + 20);
    return true;
}

bool probe_jpeg(const uint8_t* data, size_t size, ImageHeader& out, std::string& why) {
    size_t pos = 2;  // after SOI
    while (true) {
        if (pos >= size) return why = kTruncated, false;
        if (data[pos] != 0xFF) return why = "corrupt JPEG marker sequence", false;
        // Any number of 0xFF fill bytes may precede a marker code.
        while (pos < size && data[pos] == 0xFF) ++pos;
        if (pos >= size) return why = kTruncated, false;
        const uint8_t marker = data[pos++];
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
        if (marker == 0xD8 || marker == 0x00) return why = "corrupt JPEG marker sequence", false;
        if (marker == 0xD9 || marker == 0xDA) return why = "JPEG without a frame header", false;
        if (pos + 2 > size) return why = kTruncated, false;
        const size_t length = be16(data + pos);
        if (length < 2) return why = "corrupt JPEG segment length", false;
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            // length(2) precision(1) height(2) width(2) components(1)
            if (length < 8) return why = "corrupt JPEG frame header", false;
            if (pos + 7 > size) return why = kTruncated, false;
            out.format = ImageFormat::Jpeg;
            out.height = be16(data + pos + 3);
            out.width = be16(data + pos + 5);
            return true;
        }
        if (length > size - pos) return why = kTruncated, false;
        pos += length;
    }
}

bool probe_webp(const uint8_t* data, size_t size, ImageHeader& out, std::string& why) {
    // RIFF <size> WEBP, then chunks of fourcc + little-endian size, padded to even sizes.
    size_t pos = 12;
    while (true) {
        if (pos + 8 > size) return why = kTruncated, false;
        const uint8_t* fourcc = data + pos;
        const size_t chunk = le32(data + pos + 4);
        const uint8_t* body = data + pos + 8;
        const size_t avail = size - pos - 8;
        if (std::memcmp(fourcc, "VP8 ", 4) == 0) {
            // 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
            if (avail < 10) return why = kTruncated, false;
            if (body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a)
                return why = "corrupt WebP VP8 header", false;
            out.format = ImageFormat::Webp;
            out.width = le16(body + 6) & 0x3FFF;
            out.height = le16(body + 8) & 0x3FFF;
            return true;
        }
        if (std::memcmp(fourcc, "VP8L", 4) == 0) {
            // Signature 0x2f, then 14 bits of width-1 and 14 bits of height-1.
            if (avail < 5) return why = kTruncated, false;
            if (body[0] != 0x2f) return why = "corrupt WebP VP8L header", false;
            const uint32_t bits = le32(body + 1);
            out.format = ImageFormat::Webp;
            out.width = int64_t(bits & 0x3FFF) + 1;
            out.height = int64_t((bits >> 14) & 0x3FFF) + 1;
            return true;
        }
        if (std::memcmp(fourcc, "VP8X", 4) == 0) {
            // Flags(1), reserved(3), 24-bit canvas width-1 and height-1.
            if (avail < 10) return why = kTruncated, false;
            out.format = ImageFormat::Webp;
            out.width = int64_t(le24(body + 4)) + 1;
            out.height = int64_t(le24(body + 7)) + 1;
            return true;
        }
        const size_t padded = chunk + (chunk & 1);
        if (padded > avail) return why = kTruncated, false;
        pos += 8 + padded;
    }
}

}  // namespace

bool probe_image_header(const uint8_t* data, size_t size, ImageHeader& out, std::string& why) {
    out = ImageHeader{};
    why.clear();
    static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (data == nullptr) size = 0;
    if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return probe_png(data, size, out, why);
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return probe_jpeg(data, size, out, why);
    if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0)
        return probe_webp(data, size, out, why);
    why = size == 0 ? "empty file" : "not a JPEG, PNG or WebP file";
    return false;
}

}  // namespace cardsynth
