#include "render/kernels/gaussian_fixed.h"

#include <immintrin.h>

#include <cstring>

#include "base/cpu_features.h"

namespace cardsynth {
namespace {

// Both passes work on blocks of a row's channels held in registers while every tap is added,
// pairing the kernel's symmetric taps: portable loops, and AVX2 forms of the same sums where the
// processor has it. The sums are those of gaussian_row_sum and gaussian_column_sum exactly.

constexpr int kRowBlock = 32;     // 16-bit sums per block of pass 1
constexpr int kColumnBlock = 16;  // 32-bit sums per block of pass 2

// Pass 1 for one source row: out[i] = sum_j taps[j] * padded[i + 4 j] for i < n (rounded up to
// kRowBlock), where `padded` is the row with 2r transparent pixels on each side. Sums stay below
// 65536 (taps sum to 256), so 16-bit lanes hold them exactly.
void row_pass_portable(const uint8_t* padded, int n, int r, int reach, const uint16_t* taps,
                       uint16_t* out) {
    const uint8_t* centre = padded + 4 * r;
    for (int i = 0; i < n; i += kRowBlock) {
        uint16_t acc[kRowBlock];
        for (int l = 0; l < kRowBlock; ++l) acc[l] = static_cast<uint16_t>(centre[i + l] * taps[r]);
        for (int k = 1; k <= reach; ++k) {
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
void column_pass_portable(const uint16_t* rows, size_t row_stride, int n, int r, int reach,
                          const uint16_t* taps, uint8_t* out) {
    const uint16_t* centre = rows + static_cast<size_t>(r) * row_stride;
    for (int i = 0; i < n; i += kColumnBlock) {
        uint32_t acc[kColumnBlock];
        for (int l = 0; l < kColumnBlock; ++l) acc[l] = uint32_t{centre[i + l]} * taps[r];
        for (int k = 1; k <= reach; ++k) {
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

__attribute__((target("avx2"), always_inline)) inline __m256i widen(const uint8_t* p) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
__attribute__((target("avx2"), always_inline)) inline __m256i widen(const uint16_t* p) {
    return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Sixteen 16-bit sums per step: bytes widened, paired taps added, one multiply per pair.
__attribute__((target("avx2"))) void row_pass_avx2(const uint8_t* padded, int n, int r, int reach,
                                                   const uint16_t* taps, uint16_t* out) {
    const uint8_t* centre = padded + 4 * r;
    for (int i = 0; i < n; i += 16) {
        __m256i acc = _mm256_mullo_epi16(widen(centre + i), _mm256_set1_epi16(taps[r]));
        for (int k = 1; k <= reach; ++k) {
            const __m256i pair =
                _mm256_add_epi16(widen(centre + i - 4 * k), widen(centre + i + 4 * k));
            acc = _mm256_add_epi16(acc, _mm256_mullo_epi16(pair, _mm256_set1_epi16(taps[r - k])));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), acc);
    }
}

// The sums of `taps` over pass-1 values, split by their bytes: a value x is 256 xh + xl, so a sum
// is 256 * sum(t xh) + sum(t xl), and since the taps sum to 256 each partial sum stays at most
// 255 * 256: sixteen 16-bit lanes hold them, with 16-bit multiplies.
struct SplitSums {
    __m256i hi, lo;
};

__attribute__((target("avx2"), always_inline)) inline SplitSums column_sums(const uint16_t* centre,
                                                                            size_t row_stride,
                                                                            int r, int reach,
                                                                            const uint16_t* taps) {
    const __m256i low_byte = _mm256_set1_epi16(0xFF);
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(centre));
    const __m256i tc = _mm256_set1_epi16(static_cast<int16_t>(taps[r]));
    SplitSums s{_mm256_mullo_epi16(_mm256_srli_epi16(c, 8), tc),
                _mm256_mullo_epi16(_mm256_and_si256(c, low_byte), tc)};
    for (int k = 1; k <= reach; ++k) {
        const __m256i t = _mm256_set1_epi16(static_cast<int16_t>(taps[r - k]));
        const __m256i a =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(centre - k * row_stride));
        const __m256i b =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(centre + k * row_stride));
        const __m256i hi = _mm256_add_epi16(_mm256_srli_epi16(a, 8), _mm256_srli_epi16(b, 8));
        const __m256i lo =
            _mm256_add_epi16(_mm256_and_si256(a, low_byte), _mm256_and_si256(b, low_byte));
        s.hi = _mm256_add_epi16(s.hi, _mm256_mullo_epi16(hi, t));
        s.lo = _mm256_add_epi16(s.lo, _mm256_mullo_epi16(lo, t));
    }
    return s;
}

// OpenCV's rounding of the 16.16 sum, (256 hi + lo + 32768) >> 16, is (hi + (lo >> 8) + 128)
// >> 8 (32768 is a multiple of 256, and the low byte of lo cannot carry past bit 16). hi +
// lo / 256 is the sum over 256, at most 255 * 256, so the 16-bit lanes do not overflow and the
// result is at most 255 without a clamp.
__attribute__((target("avx2"), always_inline)) inline __m256i round_sums(const SplitSums& s) {
    const __m256i sum = _mm256_add_epi16(_mm256_add_epi16(s.hi, _mm256_srli_epi16(s.lo, 8)),
                                         _mm256_set1_epi16(128));
    return _mm256_srli_epi16(sum, 8);
}

// Thirty-two channels per step while they fit, then sixteen with a partial store.
__attribute__((target("avx2"))) void column_pass_avx2(const uint16_t* rows, size_t row_stride,
                                                      int n, int r, int reach, const uint16_t* taps,
                                                      uint8_t* out) {
    const uint16_t* centre = rows + static_cast<size_t>(r) * row_stride;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i a = round_sums(column_sums(centre + i, row_stride, r, reach, taps));
        const __m256i b = round_sums(column_sums(centre + i + 16, row_stride, r, reach, taps));
        // packus interleaves the 128-bit halves; the permute puts the 32 bytes back in order.
        const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), bytes);
    }
    for (; i < n; i += 16) {
        const __m256i a = round_sums(column_sums(centre + i, row_stride, r, reach, taps));
        const __m128i low =
            _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(a, a), 0x08));
        alignas(16) uint8_t tail[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(tail), low);
        std::memcpy(out + i, tail, static_cast<size_t>(std::min(16, n - i)));
    }
}

size_t round_up(size_t v, size_t to) {
    return (v + to - 1) / to * to;
}

}  // namespace

void gaussian_blur_rgba(const uint8_t* src, int w, int h, int src_stride, int r,
                        const uint16_t* taps, uint8_t* dst, int dst_stride,
                        GaussianScratch& scratch) {
    const bool avx2 = cpu_has_avx2() && !scratch.portable_only;
    const int W = w + 2 * r, H = h + 2 * r;
    const int n = W * 4;  // channels in an output row
    // Outer taps that round to 0 add nothing: the sums stop at the last non-zero one.
    int reach = r;
    while (reach > 0 && taps[r - reach] == 0) --reach;
    // Pass-1 rows, rounded up to whole blocks of both passes, with 2r zero rows on each side.
    const size_t row_stride = round_up(static_cast<size_t>(n), kRowBlock);
    scratch.padded_row.assign(static_cast<size_t>(4 * r) * 4 + row_stride + 4 * r * 4, 0);
    scratch.rows.resize(row_stride * (h + 4 * r));
    std::fill(scratch.rows.begin(), scratch.rows.begin() + row_stride * 2 * r, uint16_t{0});
    std::fill(scratch.rows.end() - row_stride * 2 * r, scratch.rows.end(), uint16_t{0});
    for (int y = 0; y < h; ++y) {
        std::memcpy(scratch.padded_row.data() + static_cast<size_t>(2 * r) * 4,
                    src + static_cast<size_t>(y) * src_stride, static_cast<size_t>(w) * 4);
        uint16_t* out = scratch.rows.data() + row_stride * (y + 2 * r);
        if (avx2)
            row_pass_avx2(scratch.padded_row.data(), n, r, reach, taps, out);
        else
            row_pass_portable(scratch.padded_row.data(), n, r, reach, taps, out);
    }
    for (int Y = 0; Y < H; ++Y) {
        const uint16_t* rows = scratch.rows.data() + row_stride * Y;
        uint8_t* out = dst + static_cast<size_t>(Y) * dst_stride;
        if (avx2)
            column_pass_avx2(rows, row_stride, n, r, reach, taps, out);
        else
            column_pass_portable(rows, row_stride, n, r, reach, taps, out);
    }
}

}  // namespace cardsynth
