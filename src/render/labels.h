// Labels of one image, as the dataset contract defines them: geometry from the scene spec,
// visibility from the id buffer the renderer wrote.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "scene/scene.h"

namespace cardsynth {

struct CardLabel {
    int32_t card_id = -1;
    std::array<float, 8> corners{};           // (x, y) x 4: TL, TR, BR, BL
    std::array<uint8_t, 4> corner_visible{};  // 2 seen, 1 in frame but covered, 0 outside
    std::array<float, 4> bbox{};              // visible pixels x0, y0, x1, y1; zeros when none
    std::array<float, 4> bbox_full{};         // whole card, clipped to the frame
    float visible_fraction = 0;
};

struct ImageLabels {
    std::vector<CardLabel> cards;  // painter's order, one per placed card
};

ImageLabels compute_labels(const SceneSpec& scene, const cv::Mat& ids);

}  // namespace cardsynth
