// The global effects of a frame, per pixel, for host and device alike: a lighting gradient, a
// soft glare spot and sensor noise. Shadows are drawn with the cards (render_cpu, render_cuda).
#pragma once

#include <cmath>
#include <cstdint>

#include "base/rng.h"
#include "render/kernels/geometry.h"
#include "scene/scene.h"

namespace cardsynth {

// Everything a pixel needs, flattened so that a kernel can take it by value.
struct ShadingParams {
    float light_strength, light_dx, light_dy;
    float glare_strength, glare_x, glare_y, glare_inv_r2;
    float noise_sigma;
    uint64_t noise_key;
    int width, height;
};

CS_HD bool shading_active(const ShadingParams& p) {
    return p.light_strength > 0.0f || p.glare_strength > 0.0f || p.noise_sigma > 0.0f;
}

// An approximately normal deviate from a hash: the sum of four bytes (Irwin-Hall), centred and
// scaled to unit variance. Cheap, and the same integers on both backends.
CS_HD float hashed_normal(uint64_t key, uint64_t n) {
    const uint64_t h = splitmix64(key ^ (n * 0x9E3779B97F4A7C15ULL));
    const int sum = static_cast<int>(h & 255) + static_cast<int>((h >> 8) & 255) +
                    static_cast<int>((h >> 16) & 255) + static_cast<int>((h >> 24) & 255);
    return (static_cast<float>(sum) - 510.0f) * (1.0f / 147.8f);
}

// `glare` is the precomputed exp(-d^2/r^2) at this pixel (separable, so the CPU tabulates it).
CS_HD void shade_pixel(const ShadingParams& p, int x, int y, float glare, uint8_t* px) {
    const float fx = (static_cast<float>(x) + 0.5f) / static_cast<float>(p.width) - 0.5f;
    const float fy = (static_cast<float>(y) + 0.5f) / static_cast<float>(p.height) - 0.5f;
    const float gain = 1.0f + p.light_strength * (fx * p.light_dx + fy * p.light_dy) * 2.0f;
    float add = p.glare_strength * 255.0f * glare;
    if (p.noise_sigma > 0.0f)
        add += p.noise_sigma * hashed_normal(p.noise_key, static_cast<uint64_t>(y) *
                                                                  static_cast<uint64_t>(p.width) +
                                                              static_cast<uint64_t>(x));
    for (int c = 0; c < 3; ++c) {
        float v = static_cast<float>(px[c]) * gain + add + 0.5f;
        v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
        px[c] = static_cast<uint8_t>(v);
    }
}

// The shading of a scene, as both backends take it (host only).
inline ShadingParams shading_params(const SceneSpec& scene) {
    const Effects& fx = scene.effects;
    return ShadingParams{
        fx.light_strength,
        fx.light_dx,
        fx.light_dy,
        fx.glare_strength,
        fx.glare_x,
        fx.glare_y,
        1.0f / (fx.glare_radius * fx.glare_radius),
        fx.noise_sigma,
        splitmix64(scene.seed ^ splitmix64(static_cast<uint64_t>(scene.index) + 0x5eed)),
        scene.width,
        scene.height};
}

// exp(-d^2/r^2) factors into a row term and a column term: the term at each of n pixel centres
// along one axis, appended to `out` (host only, with std::exp, so both backends get the same).
template <typename Vector>
void append_glare_profile(float centre, float inv_r2, int n, Vector& out) {
    for (int i = 0; i < n; ++i) {
        const float d = static_cast<float>(i) + 0.5f - centre;
        out.push_back(std::exp(-d * d * inv_r2));
    }
}

}  // namespace cardsynth
