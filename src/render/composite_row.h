// One row of one card drawn by the CPU renderer (affine or projective mapping): sample the texture,
// blend over the frame, mark the id buffer. The scalar form is the reference (the arithmetic of
// geometry.h, which the CUDA backend runs too); an AVX2 form computes the same bytes eight
// pixels at a time, and composite_row picks it where the processor has AVX2.
#pragma once

#include <cstdint>

#include "base/cpu_features.h"
#include "render/kernels/geometry.h"

namespace cardsynth {

struct RowJob {
    TexView tex;
    const float* m;  // frame pixel -> texture coordinates (3x3, row-major)
    float yc;        // the row's pixel-centre y
    int xa, xb;      // pixel columns to draw, inclusive; inside the frame
    uint8_t* rgb;    // the frame row (RGB8)
    uint8_t* ids;    // the id row
    uint8_t slot;    // written where the card covers a pixel (id_covers)
    float pad;       // the texture's transparent border, for id_covers
};

void composite_row_scalar(const RowJob& job);
void composite_row_avx2(const RowJob& job);  // only where cpu_has_avx2()
// The fastest form this processor runs; every form writes the same bytes.
void composite_row(const RowJob& job);

// One row of a card's shadow: every pixel in [xa, xb] is darkened by
// the texture's bilinear alpha there (darken of geometry.h), where that alpha is not zero.
struct ShadowJob {
    TexView tex;
    const float* m;  // frame pixel -> texture coordinates of the shadow (3x3)
    float yc;        // the row's pixel-centre y
    int xa, xb;      // pixel columns, inclusive; inside the frame
    uint8_t* rgb;    // the frame row (RGB8)
    uint32_t opacity256;
};

void shadow_row_scalar(const ShadowJob& job);
void shadow_row_avx2(const ShadowJob& job);  // only where cpu_has_avx2()
void shadow_row(const ShadowJob& job);

// darken(pixel, 255, opacity256) over n pixels from rgb: the inside of a shadow.
void darken_run_scalar(uint8_t* rgb, int n, uint32_t opacity256);
void darken_run_avx2(uint8_t* rgb, int n, uint32_t opacity256);  // only where cpu_has_avx2()
void darken_run(uint8_t* rgb, int n, uint32_t opacity256);

}  // namespace cardsynth
