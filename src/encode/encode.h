// Turning a frame into the bytes the dataset stores: raw RGB, JPEG (TurboJPEG, 4:2:0, one
// compressor per thread, reused) or PNG.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "config/config.h"

namespace cardsynth {

// Encodes an RGB8 image (R, G, B order). For Storage::Raw the bytes are the pixels, row-major.
void encode_image(const cv::Mat& rgb, Storage storage, int jpeg_quality, std::vector<uint8_t>& out);
// Decodes JPEG or PNG bytes back to RGB8 (R, G, B); throws DatasetError on corrupt bytes.
cv::Mat decode_image(const uint8_t* data, size_t size);
// The RGB8 image through JPEG at `quality` (1..100), as encode_image compresses it, decoded back
// into its own pixels: the image keeps its buffer (it may be a caller's) and gains the artefacts.
void jpeg_round_trip(cv::Mat& rgb, int quality);

}  // namespace cardsynth
