// `cardsynth preview`: a contact sheet of a dataset's images with their labels drawn on them
// (corners as a quadrilateral, the top-left corner marked, the visible box, the card's name).
#pragma once

#include <cstdint>
#include <string>

namespace cardsynth {

// Writes a PNG of `count` images starting at `start`; returns how many it drew.
int write_preview(const std::string& dataset, const std::string& png, int count, int64_t start);

}  // namespace cardsynth
