// The Gaussian blur of an 8-bit texture exactly as OpenCV's cv::GaussianBlur computes it for
// CV_8U with BORDER_CONSTANT: a fixed-point kernel (taps with 8 fractional bits summing to 256,
// from OpenCV's bit-exact kernel and its error-diffusion rounding), exact integer sums, one
// rounding at the end. The CPU renderer runs gaussian_blur_rgba (the same sums, blocks of a row at
// a time, so that they vectorise); the CUDA backend runs the per-pixel functions below; both blur
// to the same bytes as OpenCV, and the id buffers (alpha >= 128) agree.
#pragma once

#include <algorithm>
#include <climits>  // softfloat.hpp uses UCHAR_MAX and friends without including it
#include <cstdint>
#include <vector>

#include <opencv2/core/softfloat.hpp>

#include "render/kernels/geometry.h"

namespace cardsynth {

// The taps of a ksize (odd) kernel of standard deviation sigma (> 0), in units of 1/256, as
// OpenCV's getGaussianKernelBitExact and getGaussianKernelFixedPoint_ED make them.
inline std::vector<uint16_t> gaussian_taps_q8(int ksize, double sigma) {
    const int n = ksize, half = (n - 1) / 2;
    const cv::softdouble scale = cv::softdouble::fromRaw(0xbfc0000000000000ull) /  // -0.125
                                 (cv::softdouble(sigma) * cv::softdouble(sigma));
    std::vector<cv::softdouble> values(half + 1);
    cv::softdouble sum = cv::softdouble::zero();
    for (int i = 0, x = 1 - n; i < half; ++i, x += 2) {
        values[i] = cv::exp(cv::softdouble(x * x) * scale);
        sum += values[i];
    }
    sum *= cv::softdouble(2);
    sum += cv::softdouble::one();
    const cv::softdouble inv = cv::softdouble::one() / sum;
    // Error diffusion from the outside in; the centre takes what makes the sum exact.
    const cv::softdouble unit(static_cast<int64_t>(256));
    std::vector<uint16_t> taps(n);
    cv::softdouble err = cv::softdouble::zero();
    int64_t total = 0;
    for (int i = 0; i < half; ++i) {
        const cv::softdouble adjusted = values[i] * inv * unit + err;
        const int64_t v = cvRound64(adjusted);
        err = adjusted - cv::softdouble(v);
        taps[i] = taps[n - 1 - i] = static_cast<uint16_t>(v);
        total += v;
    }
    taps[half] = static_cast<uint16_t>(256 - 2 * total);
    return taps;
}

// The blur of a w x h RGBA8 texture padded by r transparent pixels on each side, in two passes.
// Pass 1 (rows of the source only, since padded rows are zero): for output column X of the
// padded width w + 2r, source row y and channel c, the horizontal sum in 8.8 fixed point.
CS_HD uint32_t gaussian_row_sum(const uint8_t* src, int w, int stride, int r, const uint16_t* taps,
                                int X, int y, int c) {
    uint32_t s = 0;
    const uint8_t* row = src + static_cast<size_t>(y) * stride;
    for (int j = 0; j <= 2 * r; ++j) {
        const int x = X + j - 2 * r;  // source column under tap j
        if (x >= 0 && x < w) s += static_cast<uint32_t>(row[x * 4 + c]) * taps[j];
    }
    return s;
}

// Pass 2: the vertical sum over the pass-1 rows (rows[y * row_stride + X * 4 + c], h rows) for
// padded output row Y, rounded to 8 bits as OpenCV rounds its 16.16 accumulator.
CS_HD uint8_t gaussian_column_sum(const uint16_t* rows, int row_stride, int h, int r,
                                  const uint16_t* taps, int X, int Y, int c) {
    uint32_t s = 0;
    for (int i = 0; i <= 2 * r; ++i) {
        const int y = Y + i - 2 * r;
        if (y >= 0 && y < h)
            s += static_cast<uint32_t>(rows[static_cast<size_t>(y) * row_stride + X * 4 + c]) *
                 taps[i];
    }
    const uint32_t v = (s + 32768u) >> 16;
    return static_cast<uint8_t>(v > 255u ? 255u : v);
}

#if !defined(__CUDACC__)
// Work rows reused from one blur to the next, one per thread, so a blur allocates nothing.
struct GaussianScratch {
    std::vector<uint8_t> padded_row;
    std::vector<uint16_t> rows;
    bool portable_only = false;  // tests: the portable loops even where AVX2 runs
};

// The blur of a w x h RGBA8 image (`src`, `src_stride` bytes per row) padded by r transparent
// pixels on each side, into dst ((w + 2r) x (h + 2r) pixels, `dst_stride` bytes per row): the
// same bytes as cv::GaussianBlur with a (2r + 1)-tap kernel `taps` (gaussian_taps_q8) on the
// image bordered by r zeros, and as gaussian_row_sum / gaussian_column_sum pixel by pixel.
void gaussian_blur_rgba(const uint8_t* src, int w, int h, int src_stride, int r,
                        const uint16_t* taps, uint8_t* dst, int dst_stride,
                        GaussianScratch& scratch);
#endif

}  // namespace cardsynth
