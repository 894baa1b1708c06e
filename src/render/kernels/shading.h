// The global effects of a frame, per pixel, for host and device alike: a lighting gradient, a
// soft glare spot and sensor noise, then the camera's colour (white balance, exposure, gamma,
// saturation). Shadows are drawn with the cards (render_cpu, render_cuda).
//
// A pixel channel p becomes clamp(((p * gain) >> 8 + glare + noise + 8) >> 4): gain in 1/4096,
// glare and noise in 1/16 grey levels, all integers from a few per-row and per-column terms, so
// that the CPU computes sixteen channels per instruction in 16-bit lanes and the GPU the same
// integers per pixel. The float terms (lighting, glare profiles) are computed by the functions
// below on both sides with the same rounded operations (no fused multiply-adds).
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
    float glare_scale;  // glare_strength * 255 * 16: the glare at the spot's centre
    float noise_sigma;
    int32_t noise_sigma_q7;  // noise_sigma in 1/128 grey levels
    uint64_t noise_key;      // picks the rows of the noise field this image reads
    int width, height;
};

constexpr int kGainOne = 4096;      // gain 1.0
constexpr int kGainMax = 16383;     // gains clamp to [0, 4): sums stay inside 16-bit lanes
constexpr int kShadeFraction = 16;  // glare and noise in 1/16 grey levels
// The noise field: 2^22 normal deviates in 1/16 of a standard deviation, fixed for good. An
// image reads each row's channels from its own offset into it (noise_row_offset).
constexpr uint32_t kNoiseFieldBits = 22;
constexpr uint32_t kNoiseFieldSize = 1u << kNoiseFieldBits;
constexpr uint64_t kNoiseFieldKey = 0x6E6F697365666C64ULL;

CS_HD bool shading_active(const ShadingParams& p) {
    return p.light_strength > 0.0f || p.glare_strength > 0.0f || p.noise_sigma_q7 > 0;
}

// Entry i of the noise field: the sum of eight hashed bytes (Irwin-Hall, mean 1020, standard
// deviation 209.02) scaled to 16 per standard deviation (5017 / 65536 = 16 / 209.02), rounded.
CS_HD int noise_field_value(uint32_t i) {
    const uint64_t h = splitmix64(kNoiseFieldKey ^ (static_cast<uint64_t>(i) << 20));
    int sum = 0;
    for (int k = 0; k < 8; ++k) sum += static_cast<int>((h >> (8 * k)) & 255);
    return ((sum - 1020) * 5017 + 32768) >> 16;
}

// Where row y of an image starts reading the field (channel c reads (offset + c) mod the size).
CS_HD uint32_t noise_row_offset(uint64_t key, int y) {
    const uint64_t h = splitmix64(key ^ (static_cast<uint64_t>(y + 1) * 0xD1B54A32D192ED03ULL));
    return static_cast<uint32_t>(h) & (kNoiseFieldSize - 1);
}

// The noise of a channel in 1/16 grey levels: round(v * sigma), as _mm256_mulhrs_epi16 rounds.
CS_HD int noise_q4(int field_value, int sigma_q7) {
    return (field_value * 256 * sigma_q7 + 16384) >> 15;
}

// The lighting term of pixel i of n along one axis (direction component d), in 1/4096: the
// gain is kGainOne + the x term + the y term, clamped.
CS_HD int light_term(float strength, float d, int i, int n) {
    const float f = (static_cast<float>(i) + 0.5f) / static_cast<float>(n) - 0.5f;
    return static_cast<int>(floorf(f * d * strength * 2.0f * 4096.0f + 0.5f));
}

CS_HD int light_gain(int x_term, int y_term) {
    const int g = kGainOne + x_term + y_term;
    return g < 0 ? 0 : (g > kGainMax ? kGainMax : g);
}

// The glare exp(-d^2/r^2) = gx * gy is separable: a column factor in 1/65536 times a row factor
// already scaled by the glare's strength (1/16 grey levels); their product >> 16 is the glare.
CS_HD uint32_t glare_column_q16(float gx) {
    return static_cast<uint32_t>(gx * 65535.0f + 0.5f);
}
CS_HD uint32_t glare_row_q4(float gy, float glare_scale) {
    return static_cast<uint32_t>(gy * glare_scale + 0.5f);
}

// One channel: the reference the CPU's vector pass and the GPU's kernel both compute.
CS_HD uint8_t shade_channel(uint32_t v, int gain, uint32_t glare_col, uint32_t glare_row,
                            int noise) {
    const int lit = static_cast<int>((v * static_cast<uint32_t>(gain)) >> 8);
    const int glare = static_cast<int>((glare_col * glare_row) >> 16);
    const int s = (lit + glare + noise + kShadeFraction / 2) >> 4;
    return static_cast<uint8_t>(s < 0 ? 0 : (s > 255 ? 255 : s));
}

// Pixel (x, y) from scratch, as the GPU computes it; `gx`, `gy` the glare profiles there.
CS_HD void shade_pixel(const ShadingParams& p, int x, int y, float gx, float gy, uint8_t* px) {
    const int gain = light_gain(light_term(p.light_strength, p.light_dx, x, p.width),
                                light_term(p.light_strength, p.light_dy, y, p.height));
    const uint32_t col = glare_column_q16(gx), row = glare_row_q4(gy, p.glare_scale);
    const uint32_t off = noise_row_offset(p.noise_key, y) + 3u * static_cast<uint32_t>(x);
    for (int c = 0; c < 3; ++c) {
        const int n =
            p.noise_sigma_q7 > 0
                ? noise_q4(noise_field_value((off + c) & (kNoiseFieldSize - 1)), p.noise_sigma_q7)
                : 0;
        px[c] = shade_channel(px[c], gain, col, row, n);
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
        fx.glare_strength * 255.0f * static_cast<float>(kShadeFraction),
        fx.noise_sigma,
        static_cast<int32_t>(std::lround(fx.noise_sigma * 128.0f)),
        splitmix64(scene.seed ^ splitmix64(static_cast<uint64_t>(scene.index) + 0x5eed)),
        scene.width,
        scene.height};
}

// The camera's colour as both backends apply it after the shading: a per-channel lookup table
// made on the host (so that both apply the same bytes), then a saturation mix in integers.
struct ColourTable {
    uint8_t lut[3][256];    // R, G, B
    int32_t saturation_q8;  // 256 = unchanged
    int32_t active;         // 0: the table is the identity and the saturation 256
};

constexpr int kSaturationOne = 256;

// round(Y + s (c - Y)) with Y the BT.601 luma in 1/256 weights (77, 150, 29); the bias keeps the
// shifted sum positive, so that >> floors on every compiler.
CS_HD uint8_t saturate_channel(int c, int luma, int s_q8) {
    const int d = s_q8 * (c - luma);  // |d| < 2^18 for s_q8 <= 3 * 256
    const int v = luma + ((d + kSaturationOne / 2 + (1 << 20)) >> 8) - (1 << 12);
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

CS_HD int luma_q8(int r, int g, int b) {
    return (77 * r + 150 * g + 29 * b + 128) >> 8;
}

// One pixel through the table, then the saturation mix.
CS_HD void colour_pixel(const ColourTable& t, uint8_t* px) {
    const int r = t.lut[0][px[0]], g = t.lut[1][px[1]], b = t.lut[2][px[2]];
    if (t.saturation_q8 == kSaturationOne) {
        px[0] = static_cast<uint8_t>(r), px[1] = static_cast<uint8_t>(g);
        px[2] = static_cast<uint8_t>(b);
        return;
    }
    const int y = luma_q8(r, g, b);
    px[0] = saturate_channel(r, y, t.saturation_q8);
    px[1] = saturate_channel(g, y, t.saturation_q8);
    px[2] = saturate_channel(b, y, t.saturation_q8);
}

// The table of a camera (host only): channel c's value v becomes
// round(255 * min(1, gain_c * v / 255)^(1 / gamma)).
inline ColourTable colour_table(const Camera& cam) {
    ColourTable t{};
    bool identity = true;
    for (int c = 0; c < 3; ++c) {
        for (int v = 0; v < 256; ++v) {
            double x = static_cast<double>(cam.gain[c]) * v / 255.0;
            x = x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
            const long out = std::lround(255.0 * std::pow(x, 1.0 / cam.gamma));
            t.lut[c][v] = static_cast<uint8_t>(out < 0 ? 0 : (out > 255 ? 255 : out));
            identity = identity && t.lut[c][v] == v;
        }
    }
    t.saturation_q8 = static_cast<int32_t>(std::lround(cam.saturation * kSaturationOne));
    t.active = identity && t.saturation_q8 == kSaturationOne ? 0 : 1;
    return t;
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
