#include "cardsynth/gaussian_fixed.h"

#include <cstring>

namespace cardsynth {
namespace {

// Both passes work on blocks of a row's channels held in registers while every tap is added,
// pairing the kernel's symmetric taps; the AVX2 clone runs 16 lanes per instruction where the
// machine has it. The sums are those of gaussian_row_sum and gaussian_column_sum exactly.
#define CS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))

constexpr int kRowBlock = 32;     // 16-bit sums per block of pass 1
constexpr int kColumnBlock = 16;  // 32-bit sums per block of pass 2

// Pass 1 for one source row: out[i] = sum_j taps[j] * padded[i + 4 j] for i < n (rounded up to
// kRowBlock), where `padded` is the row with 2r transparent pixels on each side. Sums stay below
// 65536 (taps sum to 256), so 16-bit lanes hold them exactly.
CS_VECTOR_CLONES void row_pass(const uint8_t* padded, int n, int r, const uint16_t* taps,
                               uint16_t* out) {
    const uint8_t* centre = padded + 4 * r;
    for (int i = 0; i < n; i += kRowBlock) {
        uint16_t acc[kRowBlock];
        for (int l = 0; l < kRowBlock; ++l) acc[l] = static_cast<uint16_t>(centre[i + l] * taps[r]);
        for (int k = 1; k <= r; ++k) {
            const uint16_t t = taps[r - k];
            const uint8_t* a = centre + i - 4 * k;
            const uint8_t* b = centre + i + 4 * k;
            for (int l = 0; l < kRowBlock; ++l)
                acc[l] = static_cast<uint16_t>(acc[l] + (a[l] + b[l]) * t);
        }
        std::memcpy(out + i, acc, sizeof acc);
    }
}

// Pass 2 for output row Y: rows[] are the pass-1 rows with 2r zero rows above and below, so
// output row Y sums rows Y .. Y + 2r; rounded to 8 bits as OpenCV rounds its 16.16 sums.
CS_VECTOR_CLONES void column_pass(const uint16_t* rows, size_t row_stride, int n, int r,
                                  const uint16_t* taps, uint8_t* out) {
    const uint16_t* centre = rows + static_cast<size_t>(r) * row_stride;
    for (int i = 0; i < n; i += kColumnBlock) {
        uint32_t acc[kColumnBlock];
        for (int l = 0; l < kColumnBlock; ++l) acc[l] = uint32_t{centre[i + l]} * taps[r];
        for (int k = 1; k <= r; ++k) {
            const uint32_t t = taps[r - k];
            const uint16_t* a = centre + i - k * row_stride;
            const uint16_t* b = centre + i + k * row_stride;
            for (int l = 0; l < kColumnBlock; ++l) acc[l] += (uint32_t{a[l]} + b[l]) * t;
        }
        uint8_t bytes[kColumnBlock];
        for (int l = 0; l < kColumnBlock; ++l) {
            const uint32_t v = (acc[l] + 32768u) >> 16;
            bytes[l] = static_cast<uint8_t>(v > 255u ? 255u : v);
        }
        std::memcpy(out + i, bytes, static_cast<size_t>(std::min(kColumnBlock, n - i)));
    }
}

size_t round_up(size_t v, size_t to) {
    return (v + to - 1) / to * to;
}

}  // namespace

void gaussian_blur_rgba(const uint8_t* src, int w, int h, int src_stride, int r,
                        const uint16_t* taps, uint8_t* dst, int dst_stride,
                        GaussianScratch& scratch) {
    const int W = w + 2 * r, H = h + 2 * r;
    const int n = W * 4;  // channels in an output row
    // Pass-1 rows, rounded up to whole blocks of both passes, with 2r zero rows on each side.
    const size_t row_stride = round_up(static_cast<size_t>(n), kRowBlock);
    scratch.padded_row.assign(static_cast<size_t>(4 * r) * 4 + row_stride + 4 * r * 4, 0);
    scratch.rows.resize(row_stride * (h + 4 * r));
    std::fill(scratch.rows.begin(), scratch.rows.begin() + row_stride * 2 * r, uint16_t{0});
    std::fill(scratch.rows.end() - row_stride * 2 * r, scratch.rows.end(), uint16_t{0});
    for (int y = 0; y < h; ++y) {
        std::memcpy(scratch.padded_row.data() + static_cast<size_t>(2 * r) * 4,
                    src + static_cast<size_t>(y) * src_stride, static_cast<size_t>(w) * 4);
        row_pass(scratch.padded_row.data(), n, r, taps,
                 scratch.rows.data() + row_stride * (y + 2 * r));
    }
    for (int Y = 0; Y < H; ++Y)
        column_pass(scratch.rows.data() + row_stride * Y, row_stride, n, r, taps,
                    dst + static_cast<size_t>(Y) * dst_stride);
}

}  // namespace cardsynth
