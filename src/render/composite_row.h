// One row of one card drawn by the CPU renderer under an affine mapping: sample the texture,
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
    const float* m;  // frame pixel -> texture coordinates, affine (m[6] = m[7] = 0)
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

}  // namespace cardsynth
