// A scene is everything needed to draw image i: its background crop, each card's id, size, pose
// and blur in painter's order, and the global effects. compose() is a pure function of
// (config, catalog, backgrounds, index): no rank and no thread enters it.
#pragma once

#include <cstdint>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "render/kernels/geometry.h"
#include "scene/background.h"

namespace cardsynth {

struct CardPlacement {
    int32_t card_id = 0;
    float width = 0, height = 0;  // the card's size in card units (pixels before the pose)
    Mat3 pose;                    // card units (0..width, 0..height) -> frame pixels
    float blur_sigma = 0;         // Gaussian sigma in frame pixels
    float corner_radius = 0;      // rounded corners, card units (textures bake them in)
};

struct Effects {
    float light_strength = 0, light_dx = 0, light_dy = 0;    // brightness gradient along (dx, dy)
    float shadow_opacity = 0, shadow_dx = 0, shadow_dy = 0;  // offset in pixels
    float glare_strength = 0, glare_x = 0, glare_y = 0, glare_radius = 1;
    float noise_sigma = 0;
};

// The camera of one image (config's scene.camera drawn): colour applied after the global
// effects, an optional motion blur before them, and the JPEG quality the frame passes through.
// The defaults change nothing.
struct Camera {
    float gain[3] = {1.0f, 1.0f, 1.0f};        // per channel (R, G, B): white balance x 2^exposure
    float gamma = 1.0f;                        // out = in^(1/gamma) on [0, 1]
    float saturation = 1.0f;                   // 1 = unchanged, 0 = grey
    int jpeg_quality = 0;                      // 1..100; 0 = no JPEG pass of the camera's own
    float motion_length = 0.0f;                // box blur length in pixels; under 1.5, none
    float motion_dx = 1.0f, motion_dy = 0.0f;  // its direction, a unit vector
    float lens_k1 = 0.0f;                      // barrel distortion (render/lens); 0 = none
};

struct SceneSpec {
    int64_t index = 0;
    uint64_t seed = 0;
    int width = 0, height = 0;
    int32_t background = 0;
    int32_t background_level = 0;
    int32_t crop_x = 0, crop_y = 0;    // top-left of the frame in the background level
    std::vector<CardPlacement> cards;  // painter's order: the last is on top
    Effects effects;
    Camera camera;
    int occluders = 0;  // objects over the cards (render/occluders), never labelled
};

// The generator stream an image's objects over the cards are painted from.
constexpr uint64_t kOccluderPaintStream = 4;

SceneSpec compose(const Config& config, const Catalog& catalog, const Backgrounds& backgrounds,
                  int64_t index);

// The four corners of a placed card in frame pixels: top-left, top-right, bottom-right,
// bottom-left of the card as printed.
void card_corners(const CardPlacement& card, Vec2 out[4]);

}  // namespace cardsynth
