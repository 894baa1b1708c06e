// Reads an image file's format and declared size from its header without decoding it, so that
// a card declaring a huge size is refused before any decoder allocates for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cardsynth {

enum class ImageFormat { Unknown, Jpeg, Png, Webp };

struct ImageHeader {
    ImageFormat format = ImageFormat::Unknown;
    int64_t width = 0, height = 0;
};

// Parses the first bytes of a file (JPEG SOFn, PNG IHDR, WebP VP8/VP8L/VP8X). Returns false and
// sets `why` ("not a JPEG, PNG or WebP file", "truncated header") when it cannot tell.
bool probe_image_header(const uint8_t* data, size_t size, ImageHeader& out, std::string& why);

}  // namespace cardsynth
