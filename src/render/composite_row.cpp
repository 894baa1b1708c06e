#include "render/composite_row.h"

#include <immintrin.h>

#include <cstring>

namespace cardsynth {

namespace {

// Frame pixel centre (xc, yc) -> texture coordinates: the affine form adds the row's terms
// once summed, the projective one computes mat3_apply's operations in its order.
inline void map_pixel(const float* m, float xc, float yc, float* u, float* v) {
    if (m[6] == 0.0f && m[7] == 0.0f) {
        *u = m[0] * xc + (m[1] * yc + m[2]), *v = m[3] * xc + (m[4] * yc + m[5]);
        return;
    }
    const Vec2 t = mat3_apply(Mat3{{m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]}}, xc, yc);
    *u = t.x, *v = t.y;
}

// map_pixel for eight pixel centres xc of one row.
struct RowMap {
    bool projective;
    __m256 m0, m3, ub, vb;            // affine: u = m0 xc + ub
    __m256 m6, wb, m1y, m2, m4y, m5;  // projective: w = (m6 xc + m7 yc) + m8
    float m8;
};

__attribute__((target("avx2"), always_inline)) inline RowMap row_map(const float* m, float yc) {
    RowMap r;
    r.projective = m[6] != 0.0f || m[7] != 0.0f;
    r.m0 = _mm256_set1_ps(m[0]), r.m3 = _mm256_set1_ps(m[3]);
    r.ub = _mm256_set1_ps(m[1] * yc + m[2]), r.vb = _mm256_set1_ps(m[4] * yc + m[5]);
    r.m6 = _mm256_set1_ps(m[6]), r.wb = _mm256_set1_ps(m[7] * yc);
    r.m1y = _mm256_set1_ps(m[1] * yc), r.m2 = _mm256_set1_ps(m[2]);
    r.m4y = _mm256_set1_ps(m[4] * yc), r.m5 = _mm256_set1_ps(m[5]);
    r.m8 = m[8];
    return r;
}

__attribute__((target("avx2"), always_inline)) inline void map8(const RowMap& r, __m256 xc,
                                                                __m256* u, __m256* v) {
    if (!r.projective) {
        *u = _mm256_add_ps(_mm256_mul_ps(r.m0, xc), r.ub);
        *v = _mm256_add_ps(_mm256_mul_ps(r.m3, xc), r.vb);
        return;
    }
    const __m256 w =
        _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(r.m6, xc), r.wb), _mm256_set1_ps(r.m8));
    const __m256 iw = _mm256_div_ps(_mm256_set1_ps(1.0f), w);
    *u = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(r.m0, xc), r.m1y), r.m2), iw);
    *v = _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(r.m3, xc), r.m4y), r.m5), iw);
}

}  // namespace

void composite_row_scalar(const RowJob& j) {
    const float tw = static_cast<float>(j.tex.width), th = static_cast<float>(j.tex.height);
    uint32_t s[4];
    for (int x = j.xa; x <= j.xb; ++x) {
        float u, v;
        map_pixel(j.m, static_cast<float>(x) + 0.5f, j.yc, &u, &v);
        sample_bilinear(j.tex, u, v, s);
        if (s[3] == 0) continue;
        blend_over(j.rgb + x * 3, s);
        if (id_covers(u, v, j.pad, tw, th, s[3])) j.ids[x] = j.slot;
    }
}

void composite_row(const RowJob& job) {
    if (cpu_has_avx2())
        composite_row_avx2(job);
    else
        composite_row_scalar(job);
}

namespace {

// blend_over for one channel of eight pixels: s + div255(dst * inv), at most 255.
__attribute__((target("avx2"), always_inline)) inline __m256i over(__m256i s, __m256i dst,
                                                                   __m256i shuffle, __m256i inv) {
    const __m256i c128 = _mm256_set1_epi32(128);
    __m256i t = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_shuffle_epi8(dst, shuffle), inv), c128);
    t = _mm256_srli_epi32(_mm256_add_epi32(t, _mm256_srli_epi32(t, 8)), 8);
    return _mm256_min_epi32(_mm256_add_epi32(s, t), _mm256_set1_epi32(255));
}

// The bilinear footprint of eight pixels of a row, as sample_bilinear computes it: the four
// integer weights of each pixel and the texel pairs of the two texture rows it reads.
struct Footprint8 {
    __m256 u, v;                 // texture coordinates of the pixel centres
    __m256i w00, w10, w01, w11;  // weights of the texels below
    __m256i a, b, c, d;          // RGBA texels: top left, top right, bottom left, bottom right
};

// What the footprint of a row's pixels needs of one texture, hoisted out of the row loop.
class Sampler8 {
  public:
    __attribute__((target("avx2"), always_inline)) explicit Sampler8(const TexView& tex)
        : xmax_(_mm256_set1_ps(static_cast<float>(tex.width - 1) - 0.001f)),
          ymax_(_mm256_set1_ps(static_cast<float>(tex.height - 1) - 0.001f)),
          stride_(_mm256_set1_epi32(tex.stride)),
          row0_(reinterpret_cast<const long long*>(tex.data)),
          row1_(reinterpret_cast<const long long*>(tex.data + tex.stride)) {}

    // The footprint of pixels x .. x + 7 of the row that `map` maps.
    __attribute__((target("avx2"), always_inline)) Footprint8 at(const RowMap& map, int x) const {
        const __m256 half = _mm256_set1_ps(0.5f), zero = _mm256_setzero_ps();
        const __m256 xc = _mm256_add_ps(_mm256_add_ps(_mm256_set1_ps(static_cast<float>(x)),
                                                      _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7)),
                                        half);
        Footprint8 f;
        map8(map, xc, &f.u, &f.v);
        const __m256 u = f.u, v = f.v;
        const __m256 k256 = _mm256_set1_ps(256.0f);
        const __m256i c128 = _mm256_set1_epi32(128), c256 = _mm256_set1_epi32(256);
        const __m256 fxf = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(u, half), zero), xmax_);
        const __m256 fyf = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(v, half), zero), ymax_);
        const __m256i x0 = _mm256_cvttps_epi32(fxf), y0 = _mm256_cvttps_epi32(fyf);
        const __m256i fx =
            _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_sub_ps(fxf, _mm256_cvtepi32_ps(x0)), k256));
        const __m256i fy =
            _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_sub_ps(fyf, _mm256_cvtepi32_ps(y0)), k256));
        f.w11 = _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(fx, fy), c128), 8);
        f.w10 = _mm256_sub_epi32(fx, f.w11);
        f.w01 = _mm256_sub_epi32(fy, f.w11);
        f.w00 = _mm256_add_epi32(_mm256_sub_epi32(_mm256_sub_epi32(c256, fx), fy), f.w11);
        const __m256i idx =
            _mm256_add_epi32(_mm256_mullo_epi32(y0, stride_), _mm256_slli_epi32(x0, 2));
        // A texel and its right neighbour are one 64-bit load: four gathers of four pairs
        // instead of four gathers of eight texels. Pixels {0, 1, 4, 5} and {2, 3, 6, 7} go to
        // the two gathers of a row so that one shuffle puts every texel back in pixel order.
        const __m256i halves =
            _mm256_permutevar8x32_epi32(idx, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
        const __m128i idx_a = _mm256_castsi256_si128(halves);
        const __m128i idx_b = _mm256_extracti128_si256(halves, 1);
        const __m256 top0 = _mm256_castsi256_ps(_mm256_i32gather_epi64(row0_, idx_a, 1));
        const __m256 top1 = _mm256_castsi256_ps(_mm256_i32gather_epi64(row0_, idx_b, 1));
        const __m256 bot0 = _mm256_castsi256_ps(_mm256_i32gather_epi64(row1_, idx_a, 1));
        const __m256 bot1 = _mm256_castsi256_ps(_mm256_i32gather_epi64(row1_, idx_b, 1));
        f.a = _mm256_castps_si256(_mm256_shuffle_ps(top0, top1, 0x88));
        f.b = _mm256_castps_si256(_mm256_shuffle_ps(top0, top1, 0xDD));
        f.c = _mm256_castps_si256(_mm256_shuffle_ps(bot0, bot1, 0x88));
        f.d = _mm256_castps_si256(_mm256_shuffle_ps(bot0, bot1, 0xDD));
        return f;
    }

  private:
    __m256 xmax_, ymax_;
    __m256i stride_;
    const long long *row0_, *row1_;
};

}  // namespace

// Eight pixels per step, each lane computing exactly what composite_row_scalar computes: the
// same float operations in the same order (no fused multiply-adds), the same integer weights and
// sums. A transparent sample blends to the unchanged pixel (premultiplied colour is never above
// alpha), so lanes need no mask for the blend, only for the id buffer.
__attribute__((target("avx2"))) void composite_row_avx2(const RowJob& j) {
    const RowMap map = row_map(j.m, j.yc);
    const Sampler8 sampler(j.tex);
    const float tw = static_cast<float>(j.tex.width), th = static_cast<float>(j.tex.height);
    const __m256 lo = _mm256_set1_ps(j.pad);
    const __m256 hi_u = _mm256_set1_ps(tw - j.pad), hi_v = _mm256_set1_ps(th - j.pad);
    const __m256i lanes = _mm256_set1_epi32(0x00FF00FF), round = _mm256_set1_epi32(0x00800080);
    const __m256i byte = _mm256_set1_epi32(0xFF);
    const __m256i c255 = _mm256_set1_epi32(255);
    const __m256i a_hi = _mm256_set1_epi32(static_cast<int>(kIdAlphaThreshold) - 1);
    const __m256i a_in = _mm256_set1_epi32(static_cast<int>(kIdAlphaInsideThreshold) - 1);
    // RGB bytes of four pixels (12 bytes at the start of each 128-bit lane) to and from one
    // channel per 32-bit lane.
    const __m256i to_r =
        _mm256_setr_epi8(0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1, 4, -1, -1, -1,
                         7, -1, -1, -1, 10, -1, -1, -1, 13, -1, -1, -1);
    const __m256i to_g =
        _mm256_setr_epi8(1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1, 5, -1, -1, -1,
                         8, -1, -1, -1, 11, -1, -1, -1, 14, -1, -1, -1);
    const __m256i to_b =
        _mm256_setr_epi8(2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1, 6, -1, -1, -1,
                         9, -1, -1, -1, 12, -1, -1, -1, 15, -1, -1, -1);
    const __m256i pack = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0,
                                          1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    int x = j.xa;
    for (; x + 7 <= j.xb; x += 8) {
        const Footprint8 f = sampler.at(map, x);
        const __m256 u = f.u, v = f.v;
        const __m256i w00 = f.w00, w10 = f.w10, w01 = f.w01, w11 = f.w11;
        const __m256i a = f.a, b = f.b, c = f.c, d = f.d;
        __m256i rb = _mm256_mullo_epi32(_mm256_and_si256(a, lanes), w00);
        rb = _mm256_add_epi32(rb, _mm256_mullo_epi32(_mm256_and_si256(b, lanes), w10));
        rb = _mm256_add_epi32(rb, _mm256_mullo_epi32(_mm256_and_si256(c, lanes), w01));
        rb = _mm256_add_epi32(rb, _mm256_mullo_epi32(_mm256_and_si256(d, lanes), w11));
        rb = _mm256_srli_epi32(_mm256_add_epi32(rb, round), 8);
        __m256i ga = _mm256_mullo_epi32(_mm256_and_si256(_mm256_srli_epi32(a, 8), lanes), w00);
        ga = _mm256_add_epi32(
            ga, _mm256_mullo_epi32(_mm256_and_si256(_mm256_srli_epi32(b, 8), lanes), w10));
        ga = _mm256_add_epi32(
            ga, _mm256_mullo_epi32(_mm256_and_si256(_mm256_srli_epi32(c, 8), lanes), w01));
        ga = _mm256_add_epi32(
            ga, _mm256_mullo_epi32(_mm256_and_si256(_mm256_srli_epi32(d, 8), lanes), w11));
        ga = _mm256_srli_epi32(_mm256_add_epi32(ga, round), 8);
        const __m256i alpha = _mm256_and_si256(_mm256_srli_epi32(ga, 16), byte);
        if (_mm256_testz_si256(alpha, alpha)) continue;
        const __m256i sr = _mm256_and_si256(rb, byte), sg = _mm256_and_si256(ga, byte);
        const __m256i sb = _mm256_and_si256(_mm256_srli_epi32(rb, 16), byte);

        uint8_t* px = j.rgb + x * 3;
        // Opaque samples (most of a card) replace the pixel: blend_over adds div255(dst * 0).
        const bool opaque = _mm256_movemask_epi8(_mm256_cmpeq_epi32(alpha, c255)) == -1;
        __m256i out;
        if (opaque) {
            out = _mm256_or_si256(_mm256_or_si256(sr, _mm256_slli_epi32(sg, 8)),
                                  _mm256_slli_epi32(sb, 16));
        } else {
            // Lane 1 holds bytes 8..23; its pixels start at byte 4 of the lane, as to_r expects.
            const __m256i dst = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(px))),
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(px + 8)), 1);
            const __m256i inv = _mm256_sub_epi32(c255, alpha);
            out = _mm256_or_si256(_mm256_or_si256(over(sr, dst, to_r, inv),
                                                  _mm256_slli_epi32(over(sg, dst, to_g, inv), 8)),
                                  _mm256_slli_epi32(over(sb, dst, to_b, inv), 16));
        }
        const __m256i packed = _mm256_shuffle_epi8(out, pack);
        const __m128i p0 = _mm256_castsi256_si128(packed), p1 = _mm256_extracti128_si256(packed, 1);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(px), p0);
        const uint32_t p0_tail = static_cast<uint32_t>(_mm_extract_epi32(p0, 2));
        std::memcpy(px + 8, &p0_tail, 4);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(px + 12), p1);
        const uint32_t p1_tail = static_cast<uint32_t>(_mm_extract_epi32(p1, 2));
        std::memcpy(px + 20, &p1_tail, 4);

        if (opaque) {
            std::memset(j.ids + x, j.slot, 8);
            continue;
        }
        const __m256 inside = _mm256_and_ps(
            _mm256_and_ps(_mm256_cmp_ps(u, lo, _CMP_GE_OQ), _mm256_cmp_ps(u, hi_u, _CMP_LE_OQ)),
            _mm256_and_ps(_mm256_cmp_ps(v, lo, _CMP_GE_OQ), _mm256_cmp_ps(v, hi_v, _CMP_LE_OQ)));
        const __m256i covers = _mm256_or_si256(
            _mm256_cmpgt_epi32(alpha, a_hi),
            _mm256_and_si256(_mm256_cmpgt_epi32(alpha, a_in), _mm256_castps_si256(inside)));
        unsigned mask = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(covers)));
        if (mask == 0xFFu) {
            std::memset(j.ids + x, j.slot, 8);
        } else {
            while (mask) {
                j.ids[x + __builtin_ctz(mask)] = j.slot;
                mask &= mask - 1;
            }
        }
    }
    if (x <= j.xb) {
        RowJob tail = j;
        tail.xa = x;
        composite_row_scalar(tail);
    }
}

}  // namespace cardsynth

namespace cardsynth {

void shadow_row_scalar(const ShadowJob& j) {
    uint32_t s[4];
    for (int x = j.xa; x <= j.xb; ++x) {
        float u, v;
        map_pixel(j.m, static_cast<float>(x) + 0.5f, j.yc, &u, &v);
        sample_bilinear(j.tex, u, v, s);
        if (s[3] != 0) darken(j.rgb + x * 3, s[3], j.opacity256);
    }
}

void darken_run_scalar(uint8_t* rgb, int n, uint32_t opacity256) {
    for (int x = 0; x < n; ++x) darken(rgb + x * 3, 255u, opacity256);
}

void shadow_row(const ShadowJob& job) {
    if (cpu_has_avx2())
        shadow_row_avx2(job);
    else
        shadow_row_scalar(job);
}

void darken_run(uint8_t* rgb, int n, uint32_t opacity256) {
    if (cpu_has_avx2())
        darken_run_avx2(rgb, n, opacity256);
    else
        darken_run_scalar(rgb, n, opacity256);
}

namespace {

// div255(v * k) in 16-bit lanes: v * k <= 255 * 255 and the rounding sums stay below 2^16.
__attribute__((target("avx2"), always_inline)) inline __m256i darken16(__m256i v, __m256i k) {
    const __m256i t = _mm256_add_epi16(_mm256_mullo_epi16(v, k), _mm256_set1_epi16(128));
    return _mm256_srli_epi16(_mm256_add_epi16(t, _mm256_srli_epi16(t, 8)), 8);
}

__attribute__((target("avx2"), always_inline)) inline __m128i darken8(__m128i v, __m128i k) {
    const __m128i t = _mm_add_epi16(_mm_mullo_epi16(v, k), _mm_set1_epi16(128));
    return _mm_srli_epi16(_mm_add_epi16(t, _mm_srli_epi16(t, 8)), 8);
}

// Darkens the 24 channels of eight pixels at px, pixel i by k[i] (16-bit lanes of k8).
__attribute__((target("avx2"), always_inline)) inline void darken8_pixels(uint8_t* px, __m128i k8) {
    // Channel c of the eight pixels takes k of pixel c / 3.
    const __m256i spread_lo = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5,
                                               6, 7, 6, 7, 6, 7, 8, 9, 8, 9, 8, 9, 10, 11);
    const __m128i spread_hi =
        _mm_setr_epi8(10, 11, 10, 11, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15);
    const __m256i k_lo = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(k8), spread_lo);
    const __m128i k_hi = _mm_shuffle_epi8(k8, spread_hi);
    const __m256i lo =
        darken16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(px))), k_lo);
    const __m128i hi = darken8(
        _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(px + 16))), k_hi);
    const __m256i packed = _mm256_packus_epi16(lo, lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(px),
                     _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(px + 16), _mm_packus_epi16(hi, hi));
}

}  // namespace

// Eight pixels per step with the float operations and integer weights of sample_bilinear, for
// alpha alone: its 16-bit lane of the G-A sum takes no carry from G, so alpha is
// (sum of alpha times weight + 128) >> 8. A zero alpha darkens by k = 255, which leaves the
// pixel as it is, so lanes need no mask.
__attribute__((target("avx2"))) void shadow_row_avx2(const ShadowJob& j) {
    const RowMap map = row_map(j.m, j.yc);
    const Sampler8 sampler(j.tex);
    const __m256i c128 = _mm256_set1_epi32(128), c255 = _mm256_set1_epi32(255);
    const __m256i op = _mm256_set1_epi32(static_cast<int>(j.opacity256));
    int x = j.xa;
    for (; x + 7 <= j.xb; x += 8) {
        const Footprint8 f = sampler.at(map, x);
        __m256i alpha = _mm256_mullo_epi32(_mm256_srli_epi32(f.a, 24), f.w00);
        alpha = _mm256_add_epi32(alpha, _mm256_mullo_epi32(_mm256_srli_epi32(f.b, 24), f.w10));
        alpha = _mm256_add_epi32(alpha, _mm256_mullo_epi32(_mm256_srli_epi32(f.c, 24), f.w01));
        alpha = _mm256_add_epi32(alpha, _mm256_mullo_epi32(_mm256_srli_epi32(f.d, 24), f.w11));
        alpha = _mm256_srli_epi32(_mm256_add_epi32(alpha, c128), 8);
        if (_mm256_testz_si256(alpha, alpha)) continue;
        const __m256i k =
            _mm256_sub_epi32(c255, _mm256_srli_epi32(_mm256_mullo_epi32(alpha, op), 8));
        const __m256i k16 = _mm256_permute4x64_epi64(_mm256_packus_epi32(k, k), 0x08);
        darken8_pixels(j.rgb + x * 3, _mm256_castsi256_si128(k16));
    }
    if (x <= j.xb) {
        ShadowJob tail = j;
        tail.xa = x;
        shadow_row_scalar(tail);
    }
}

__attribute__((target("avx2"))) void darken_run_avx2(uint8_t* rgb, int n, uint32_t opacity256) {
    const int k = 255 - static_cast<int>((255u * opacity256) >> 8);
    const __m256i k16 = _mm256_set1_epi16(static_cast<int16_t>(k));
    const int channels = 3 * n;
    int i = 0;
    for (; i + 16 <= channels; i += 16) {
        const __m256i v =
            _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<__m128i*>(rgb + i)));
        const __m256i d = darken16(v, k16);
        const __m256i packed = _mm256_packus_epi16(d, d);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(rgb + i),
                         _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
    }
    for (; i < channels; ++i)
        rgb[i] = static_cast<uint8_t>(div255(rgb[i] * static_cast<uint32_t>(k)));
}

}  // namespace cardsynth
