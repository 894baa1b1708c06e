// COCO run-length encoding of card masks, as pycocotools writes it: runs over the mask in
// column-major order, starting with a run of background (possibly empty), and the compressed
// string form of rleToString (each count, from the third on as a difference to the count two
// before, in 5-bit groups with a continuation bit, offset by 48 into printable ASCII).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace cardsynth {

// The column-major runs of the mask slots == value (`slots` CV_8U), counted over `roi` only: every
// pixel of that value must lie in it (the card's visible box), which spares a pass over the frame.
std::vector<uint32_t> slot_runs(const cv::Mat& slots, uint8_t value, const cv::Rect& roi);

// Pixels inside a mask: the sum of its odd runs.
int64_t run_area(const std::vector<uint32_t>& counts);

// pycocotools' rleToString of `counts`.
std::string rle_string(const std::vector<uint32_t>& counts);

}  // namespace cardsynth
