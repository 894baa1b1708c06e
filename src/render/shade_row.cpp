#include "render/shade_row.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "base/cpu_features.h"
#include "render/kernels/shading.h"

namespace cardsynth {

void shade_row_scalar(const ShadeRow& r) {
    for (int i = 0; i < r.n; ++i) {
        const int noise = r.sigma_q7 > 0 ? noise_q4(r.noise[i], r.sigma_q7) : 0;
        r.rgb[i] = shade_channel(r.rgb[i], light_gain(r.light_x[i], r.light_y), r.glare_col[i],
                                 r.glare_row, noise);
    }
}

void shade_row(const ShadeRow& row) {
    if (cpu_has_avx2())
        shade_row_avx2(row);
    else
        shade_row_scalar(row);
}

// Each 16-bit lane computes shade_channel: mulhi_epu16(v << 8, gain) is (v * gain) >> 8,
// mulhi_epu16(col, row) is (col * row) >> 16, and mulhrs_epi16(n << 8, sigma) is noise_q4. The
// sums stay below 2^15 (shading.h bounds each term), so 16-bit adds are exact, and the final
// pack saturates to 0..255 as the clamp does.
__attribute__((target("avx2"))) void shade_row_avx2(const ShadeRow& r) {
    const __m256i y_term = _mm256_set1_epi16(static_cast<int16_t>(kGainOne + r.light_y));
    const __m256i gain_max = _mm256_set1_epi16(kGainMax), zero = _mm256_setzero_si256();
    const __m256i glare_row = _mm256_set1_epi16(static_cast<int16_t>(r.glare_row));
    const __m256i sigma = _mm256_set1_epi16(static_cast<int16_t>(r.sigma_q7));
    const __m256i half = _mm256_set1_epi16(kShadeFraction / 2);
    const bool noisy = r.sigma_q7 > 0;
    int i = 0;
    for (; i + 16 <= r.n; i += 16) {
        const __m128i px = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r.rgb + i));
        const __m256i v = _mm256_slli_epi16(_mm256_cvtepu8_epi16(px), 8);
        __m256i gain = _mm256_add_epi16(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r.light_x + i)), y_term);
        gain = _mm256_min_epi16(_mm256_max_epi16(gain, zero), gain_max);
        __m256i s = _mm256_add_epi16(_mm256_mulhi_epu16(v, gain), half);
        const __m256i col = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(r.glare_col + i));
        s = _mm256_add_epi16(s, _mm256_mulhi_epu16(col, glare_row));
        if (noisy) {
            const __m128i n = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r.noise + i));
            const __m256i n8 = _mm256_slli_epi16(_mm256_cvtepi8_epi16(n), 8);
            s = _mm256_add_epi16(s, _mm256_mulhrs_epi16(n8, sigma));
        }
        s = _mm256_srai_epi16(s, 4);
        const __m256i packed = _mm256_packus_epi16(s, s);  // bytes 0-7 and 16-23
        const __m128i out = _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(r.rgb + i), out);
    }
    if (i < r.n) {
        ShadeRow tail = r;
        tail.rgb += i, tail.n -= i, tail.light_x += i, tail.glare_col += i;
        if (noisy) tail.noise += i;
        shade_row_scalar(tail);
    }
}

namespace {

// The n field entries from `offset` on, in place, or copied into `wrapped` where they run past
// the field's end (rarely: a row is a thousandth of the field).
const int8_t* noise_row(uint32_t offset, int n, std::vector<int8_t>& wrapped) {
    const int8_t* field = noise_field();
    if (offset + static_cast<uint32_t>(n) <= kNoiseFieldSize) return field + offset;
    wrapped.resize(n);
    for (int i = 0; i < n; ++i) wrapped[i] = field[(offset + i) & (kNoiseFieldSize - 1)];
    return wrapped.data();
}

}  // namespace

void colour_row(const ColourTable& t, uint8_t* rgb, int pixels) {
    if (t.saturation_q8 == kSaturationOne) {
        for (int i = 0; i < pixels; ++i, rgb += 3)
            rgb[0] = t.lut[0][rgb[0]], rgb[1] = t.lut[1][rgb[1]], rgb[2] = t.lut[2][rgb[2]];
        return;
    }
    for (int i = 0; i < pixels; ++i, rgb += 3) colour_pixel(t, rgb);
}

// Terms of a column are tabulated once per image (per thread), terms of a row once per row.
void shade_frame(const ShadingParams& p, uint8_t* rgb, size_t stride, const ColourTable* colour) {
    if (colour && !colour->active) colour = nullptr;
    if (!shading_active(p)) {
        if (colour)
            for (int y = 0; y < p.height; ++y)
                colour_row(*colour, rgb + static_cast<size_t>(y) * stride, p.width);
        return;
    }
    struct Tables {
        std::vector<int16_t> light_x;
        std::vector<uint16_t> glare_col;
        std::vector<float> gx, gy;
        std::vector<int8_t> wrapped;  // a row's noise where it runs past the field's end
    };
    thread_local Tables t;
    const int W = p.width, n = 3 * W;
    t.gx.clear(), t.gy.clear();
    if (p.glare_strength > 0) {
        append_glare_profile(p.glare_x, p.glare_inv_r2, W, t.gx);
        append_glare_profile(p.glare_y, p.glare_inv_r2, p.height, t.gy);
    } else {
        t.gx.assign(W, 0.0f);
        t.gy.assign(p.height, 0.0f);
    }
    t.light_x.resize(n), t.glare_col.resize(n);
    for (int x = 0; x < W; ++x) {
        const int16_t light = static_cast<int16_t>(light_term(p.light_strength, p.light_dx, x, W));
        const uint16_t col = static_cast<uint16_t>(glare_column_q16(t.gx[x]));
        for (int c = 0; c < 3; ++c) t.light_x[3 * x + c] = light, t.glare_col[3 * x + c] = col;
    }
    for (int y = 0; y < p.height; ++y) {
        const int8_t* noise = p.noise_sigma_q7 > 0
                                  ? noise_row(noise_row_offset(p.noise_key, y), n, t.wrapped)
                                  : nullptr;
        const ShadeRow row{rgb + static_cast<size_t>(y) * stride,
                           n,
                           t.light_x.data(),
                           light_term(p.light_strength, p.light_dy, y, p.height),
                           t.glare_col.data(),
                           glare_row_q4(t.gy[y], p.glare_scale),
                           noise,
                           p.noise_sigma_q7};
        shade_row(row);
        if (colour) colour_row(*colour, row.rgb, W);
    }
}

int motion_blur_taps(const Camera& cam) {
    return static_cast<int>(std::lround(cam.motion_length));
}

namespace {

// acc[i] += the channels of `row` shifted by `ox` pixels (pixel x reads x + ox), the row's end
// pixels repeated beyond it.
void add_shifted(uint16_t* acc, const uint8_t* row, int ox, int width) {
    const int a = std::clamp(-ox, 0, width), b = std::clamp(width - ox, 0, width);
    for (int x = 0; x < a; ++x)
        for (int c = 0; c < 3; ++c) acc[3 * x + c] += row[c];
    const int shift = 3 * ox;
    for (int i = 3 * a; i < 3 * b; ++i) acc[i] += row[i + shift];
    const uint8_t* last = row + 3 * (width - 1);
    for (int x = std::max(a, b); x < width; ++x)
        for (int c = 0; c < 3; ++c) acc[3 * x + c] += last[c];
}

}  // namespace

// Each tap is the frame shifted by a whole number of pixels, so a row is a few vector adds per
// tap into 16-bit sums (64 taps of 255 stay below 2^16), read from a copy of the frame.
void motion_blur_frame(const Camera& cam, uint8_t* rgb, size_t stride, int width, int height) {
    const int n = motion_blur_taps(cam);
    if (n < 2) return;
    struct Scratch {
        std::vector<uint8_t> src;
        std::vector<uint16_t> acc;
        std::vector<std::pair<int, int>> taps;
    };
    thread_local Scratch s;
    s.taps.clear();
    for (int k = 0; k < n; ++k) {
        const float t = static_cast<float>(k) - 0.5f * static_cast<float>(n - 1);
        s.taps.emplace_back(static_cast<int>(std::lround(t * cam.motion_dx)),
                            static_cast<int>(std::lround(t * cam.motion_dy)));
    }
    const size_t row_bytes = static_cast<size_t>(width) * 3;
    s.src.resize(row_bytes * height);
    for (int y = 0; y < height; ++y)
        std::copy(rgb + y * stride, rgb + y * stride + row_bytes, s.src.data() + y * row_bytes);
    s.acc.resize(row_bytes);
    const float inv = 1.0f / static_cast<float>(n);
    for (int y = 0; y < height; ++y) {
        std::fill(s.acc.begin(), s.acc.end(), 0);
        for (const auto& [ox, oy] : s.taps) {
            const int sy = std::clamp(y + oy, 0, height - 1);
            add_shifted(s.acc.data(), s.src.data() + sy * row_bytes, ox, width);
        }
        uint8_t* out = rgb + y * stride;
        for (size_t i = 0; i < row_bytes; ++i)
            out[i] = static_cast<uint8_t>(static_cast<float>(s.acc[i]) * inv + 0.5f);
    }
}

const int8_t* noise_field() {
    static const std::vector<int8_t> field = [] {
        std::vector<int8_t> f(kNoiseFieldSize);
        for (uint32_t i = 0; i < kNoiseFieldSize; ++i)
            f[i] = static_cast<int8_t>(noise_field_value(i));
        return f;
    }();
    return field.data();
}

}  // namespace cardsynth
