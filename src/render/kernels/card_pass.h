// One card's draw as both backends execute it: the mapping from frame pixels to texture
// coordinates, the rows and columns it can touch, its blur and its shadow. Computed on the host
// from the scene and the texture's size, so that the CPU and the GPU draw the same thing.
#pragma once

#include <algorithm>
#include <cmath>

#include "render/kernels/geometry.h"
#include "scene/scene.h"

namespace cardsynth {

struct CardPass {
    Mat3 to_texture;         // frame pixel -> coordinates in the padded (and blurred) texture
    Mat3 shadow_to_texture;  // the same for the shadow, offset on the table
    float tex_width = 0, tex_height = 0;  // padded texture size: the sampled region
    int pad = 0;                          // transparent border of the texture as drawn
    float blur_sigma = 0;                 // in texture pixels; 0 = no blur
    int blur_radius = 0;                  // kernel half-width in texture pixels
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;   // frame box that may change, [x0, x1) x [y0, y1)
    uint32_t shadow_opacity256 = 0;       // 0 = no shadow
};

// Below this sigma (texture pixels) a blur changes no 8-bit value worth its cost.
constexpr float kMinBlurSigma = 0.15f;
// Blur sigmas are multiples of 1 / kBlurSteps texture pixels.
constexpr float kBlurSteps = 4.0f;

inline CardPass plan_card_pass(const CardPlacement& card, int inner_width, int inner_height,
                               int base_pad, const Effects& fx, int width, int height) {
    CardPass p;
    const float sx = static_cast<float>(inner_width) / card.width;
    const float sy = static_cast<float>(inner_height) / card.height;
    // Quantised to quarter texels, so that both backends blur with the same kernel taps.
    p.blur_sigma = std::round(card.blur_sigma * sy * kBlurSteps) / kBlurSteps;
    if (p.blur_sigma < kMinBlurSigma) p.blur_sigma = 0;
    p.blur_radius = p.blur_sigma > 0 ? static_cast<int>(std::ceil(3.0f * p.blur_sigma)) : 0;
    p.pad = base_pad + p.blur_radius;
    p.tex_width = static_cast<float>(inner_width + 2 * p.pad);
    p.tex_height = static_cast<float>(inner_height + 2 * p.pad);
    const Mat3 card_to_tex{
        {sx, 0, static_cast<float>(p.pad), 0, sy, static_cast<float>(p.pad), 0, 0, 1}};
    p.to_texture = mat3_mul(card_to_tex, mat3_inverse(card.pose));
    if (fx.shadow_opacity > 0) {
        p.shadow_opacity256 = static_cast<uint32_t>(fx.shadow_opacity * 256.0f + 0.5f);
        const Mat3 shifted = mat3_mul(mat3_translate(fx.shadow_dx, fx.shadow_dy), card.pose);
        p.shadow_to_texture = mat3_mul(card_to_tex, mat3_inverse(shifted));
    }
    // The box of the padded texture's outline (and the shadow's) in the frame.
    const float mx = p.pad / sx, my = p.pad / sy;
    const float us[4] = {-mx, card.width + mx, card.width + mx, -mx};
    const float vs[4] = {-my, -my, card.height + my, card.height + my};
    float lo_x = 1e30f, lo_y = 1e30f, hi_x = -1e30f, hi_y = -1e30f;
    for (int k = 0; k < 4; ++k) {
        const Vec2 q = mat3_apply(card.pose, us[k], vs[k]);
        lo_x = std::min(lo_x, q.x), hi_x = std::max(hi_x, q.x);
        lo_y = std::min(lo_y, q.y), hi_y = std::max(hi_y, q.y);
    }
    if (p.shadow_opacity256) {
        hi_x += std::max(0.0f, fx.shadow_dx), lo_x += std::min(0.0f, fx.shadow_dx);
        hi_y += std::max(0.0f, fx.shadow_dy), lo_y += std::min(0.0f, fx.shadow_dy);
    }
    auto clampi = [](float v, int lo, int hi) {
        return static_cast<int>(
            std::max<float>(static_cast<float>(lo), std::min<float>(static_cast<float>(hi), v)));
    };
    p.x0 = clampi(std::floor(lo_x) - 1, 0, width);
    p.y0 = clampi(std::floor(lo_y) - 1, 0, height);
    p.x1 = clampi(std::ceil(hi_x) + 1, 0, width);
    p.y1 = clampi(std::ceil(hi_y) + 1, 0, height);
    return p;
}

}  // namespace cardsynth
