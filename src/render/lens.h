// The camera's barrel distortion (scene.camera.lens_distortion), as a wide webcam lens bends a
// frame. A point of the stored frame at distance r_d from its centre (over the half diagonal)
// shows what the scene has at r_u = r_d (1 + k1 r_d^2), k1 <= 0. The renderer draws the scene
// undistorted, then resamples the frame (bilinear) and the id buffer (nearest) through that map;
// the labels carry the card's corners and outline through its inverse, so they follow the bend.
#pragma once

#include <opencv2/core.hpp>

#include "render/kernels/geometry.h"
#include "scene/scene.h"

namespace cardsynth {

struct Lens {
    double k1 = 0, cx = 0, cy = 0, radius = 1;  // radius: the half diagonal
    bool active() const { return k1 != 0; }
};

Lens lens_of(const SceneSpec& scene);

// What the stored frame's point p shows of the scene.
Vec2 lens_source(const Lens& lens, Vec2 p);
// Where the scene's point p appears in the stored frame (the inverse of lens_source). A point
// beyond what the lens takes in maps past the frame's edge, along its ray.
Vec2 lens_image(const Lens& lens, Vec2 p);

// Resamples the RGB8 frame and its id buffer through the lens, in place; nothing when the lens
// is inactive.
void apply_lens(const Lens& lens, cv::Mat& rgb, cv::Mat& ids);

}  // namespace cardsynth
