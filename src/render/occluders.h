// Objects over the cards (scene.occluders): hands, dice, phones and the other distractor
// painters' objects, drawn into the frame before the camera and the light, so that they blur,
// shade and carry noise as the cards do. They are never labelled: a pixel an object covers by
// half or more leaves its card's id, so visibility, the visible fraction and the masks follow
// what the frame shows.
#pragma once

#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

#include "scene/scene.h"

namespace cardsynth {

// Paints scene.occluders objects into the W x H RGB8 frame `rgb` (rows `stride` bytes apart) and
// clears the ids under them; nothing when there are none.
void paint_occluders(const SceneSpec& scene, uint8_t* rgb, size_t stride, cv::Mat& ids);

}  // namespace cardsynth
