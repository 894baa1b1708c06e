// Loading one card image file as RGBA8, whatever its format (JPEG grey/RGB/CMYK, PNG 8/16-bit,
// palette with transparency, WebP), with every way it can be broken turned into a reason.
#pragma once

#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "base/hash.h"

namespace cardsynth {

// Validates a file without keeping its pixels: readable regular file, known format, declared
// size within max_pixels and at least 2x2, and a decode that succeeds without truncation.
// Returns "" when usable, else the reason. Fills width and height on success, and `stamp` (when
// given) with the file as read: the hash costs a fraction of the decode that reads the bytes
// anyway.
std::string check_card_file(const std::string& path, int64_t max_pixels, int& width, int& height,
                            FileStamp* stamp = nullptr);

// Decodes a card as 8-bit RGBA (channel order R, G, B, A), a JPEG at a reduced scale when that
// still gives at least `min_height` rows (0 = full size). Throws InputError naming the file.
cv::Mat load_card_rgba(const std::string& path, int64_t max_pixels, int min_height = 0);

}  // namespace cardsynth
