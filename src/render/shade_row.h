// The global effects (shading.h) over one frame row on the CPU: sixteen channels per step with
// AVX2 where the processor has it, the same bytes as shade_channel one channel at a time. The
// per-column terms are tabulated per image and the per-row terms per row, so the pass costs a
// few instructions per sixteen channels; the noise is read from a table made once. The camera's
// colour (colour_pixel) follows on each row while it is in cache, and its motion blur, which
// needs whole neighbourhoods, is a pass of its own before the shading.
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
struct ColourTable;
struct Camera;
// The global effects over a whole RGB8 frame of p.width x p.height pixels, in place, then the
// colour table when `colour` is given and active; nothing when neither is active.
void shade_frame(const ShadingParams& p, uint8_t* rgb, size_t stride,
                 const ColourTable* colour = nullptr);

// `pixels` RGB8 pixels through colour_pixel.
void colour_row(const ColourTable& t, uint8_t* rgb, int pixels);

// The taps of the camera's motion blur: lround(motion_length); below 2 there is no blur.
int motion_blur_taps(const Camera& cam);
// The camera's motion blur over a width x height RGB8 frame, in place: each channel becomes the
// rounded mean of motion_blur_taps(cam) pixels one pixel apart along (motion_dx, motion_dy),
// centred on it, each at the nearest pixel, the frame's edge repeated beyond it.
void motion_blur_frame(const Camera& cam, uint8_t* rgb, size_t stride, int width, int height);

// The noise field (kNoiseFieldSize entries of noise_field_value), made on first use.
const int8_t* noise_field();

}  // namespace cardsynth
