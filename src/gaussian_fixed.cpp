#include "cardsynth/gaussian_fixed.h"

#include <cstring>

namespace cardsynth {
namespace {

// The two passes are plain loops over a row's bytes, so that the compiler vectorises them; the
// AVX2 clone handles 16 channels per instruction where the machine has it.
#define CS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))

// Pass 1 for one source row: out[X * 4 + c] = sum_j taps[j] * padded[(X + j) * 4 + c], where
// `padded` is the row with 2r transparent pixels on each side. Sums stay below 65536 (taps sum
// to 256), so 16-bit lanes hold them exactly.
CS_VECTOR_CLONES void row_pass(const uint8_t* padded, int n, int r, const uint16_t* taps,
                               uint16_t* out) {
    for (int i = 0; i < n; ++i) out[i] = static_cast<uint16_t>(padded[i] * taps[0]);
    for (int j = 1; j <= 2 * r; ++j) {
        const uint16_t t = taps[j];
        const uint8_t* p = padded + 4 * j;
        for (int i = 0; i < n; ++i) out[i] = static_cast<uint16_t>(out[i] + p[i] * t);
    }
}

CS_VECTOR_CLONES void column_accumulate(const uint16_t* row, int n, uint32_t t, uint32_t* sums) {
    for (int i = 0; i < n; ++i) sums[i] += row[i] * t;
}

CS_VECTOR_CLONES void column_round(const uint32_t* sums, int n, uint8_t* out) {
    for (int i = 0; i < n; ++i) {
        const uint32_t v = (sums[i] + 32768u) >> 16;
        out[i] = static_cast<uint8_t>(v > 255u ? 255u : v);
    }
}

}  // namespace

void gaussian_blur_rgba(const uint8_t* src, int w, int h, int src_stride, int r,
                        const uint16_t* taps, uint8_t* dst, int dst_stride,
                        GaussianScratch& scratch) {
    const int W = w + 2 * r, H = h + 2 * r;
    const size_t n = static_cast<size_t>(W) * 4;  // channels in an output row
    scratch.padded_row.assign(static_cast<size_t>(w + 4 * r) * 4, 0);
    scratch.rows.resize(n * h);
    scratch.sums.resize(n);
    for (int y = 0; y < h; ++y) {
        std::memcpy(scratch.padded_row.data() + static_cast<size_t>(2 * r) * 4,
                    src + static_cast<size_t>(y) * src_stride, static_cast<size_t>(w) * 4);
        row_pass(scratch.padded_row.data(), static_cast<int>(n), r, taps,
                 scratch.rows.data() + n * y);
    }
    // Output row Y takes source rows Y - 2r .. Y (tap i on row Y + i - 2r); rows outside the
    // source are the transparent border and add nothing.
    for (int Y = 0; Y < H; ++Y) {
        std::fill(scratch.sums.begin(), scratch.sums.end(), 0u);
        const int i0 = std::max(0, 2 * r - Y), i1 = std::min(2 * r, h - 1 - Y + 2 * r);
        for (int i = i0; i <= i1; ++i)
            column_accumulate(scratch.rows.data() + n * (Y + i - 2 * r), static_cast<int>(n),
                              taps[i], scratch.sums.data());
        column_round(scratch.sums.data(), static_cast<int>(n),
                     dst + static_cast<size_t>(Y) * dst_stride);
    }
}

}  // namespace cardsynth
