// The global effects (shading.h) over one frame row on the CPU: sixteen channels per step with
// AVX2 where the processor has it, the same bytes as shade_channel one channel at a time. The
// per-column terms are tabulated per image and the per-row terms per row, so the pass costs a
// few instructions per sixteen channels; the noise is read from a table made once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cardsynth {

struct ShadeRow {
    uint8_t* rgb;               // the row's channels, RGB8
    int n;                      // channels in the row: 3 * width
    const int16_t* light_x;     // per channel: the lighting x term of its pixel
    int light_y;                // the row's lighting y term
    const uint16_t* glare_col;  // per channel: glare_column_q16 of its pixel
    uint32_t glare_row;         // glare_row_q4 of the row
    const int8_t* noise;        // per channel: the noise field from the row's offset on
    int sigma_q7;               // 0: no noise (then `noise` may be null)
};

void shade_row_scalar(const ShadeRow& row);
void shade_row_avx2(const ShadeRow& row);  // only where cpu_has_avx2()
// The fastest form this processor runs; every form writes the same bytes.
void shade_row(const ShadeRow& row);

struct ShadingParams;
// The global effects over a whole RGB8 frame of p.width x p.height pixels, in place; nothing
// when shading_active(p) is false.
void shade_frame(const ShadingParams& p, uint8_t* rgb, size_t stride);

// The noise field (kNoiseFieldSize entries of noise_field_value), made on first use.
const int8_t* noise_field();

}  // namespace cardsynth
