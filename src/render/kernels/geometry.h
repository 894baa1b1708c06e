// The geometry both renderers share: homographies, the inverse mapping from a frame pixel to a
// card texture, bilinear sampling with a transparent border, and rounded-corner coverage. Every
// function here compiles for host and device, so the CPU and the GPU compute the same function.
#pragma once

#include <cmath>
#include <cstdint>

#include "base/host_device.h"

namespace cardsynth {

struct Vec2 {
    float x, y;
};

// Row-major 3x3 matrix acting on column vectors (x, y, 1).
struct Mat3 {
    float m[9];
};

CS_HD Mat3 mat3_identity() {
    return Mat3{{1, 0, 0, 0, 1, 0, 0, 0, 1}};
}

CS_HD Mat3 mat3_mul(const Mat3& a, const Mat3& b) {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            r.m[i * 3 + j] =
                a.m[i * 3] * b.m[j] + a.m[i * 3 + 1] * b.m[3 + j] + a.m[i * 3 + 2] * b.m[6 + j];
    return r;
}

CS_HD Mat3 mat3_translate(float tx, float ty) {
    return Mat3{{1, 0, tx, 0, 1, ty, 0, 0, 1}};
}
CS_HD Mat3 mat3_scale(float sx, float sy) {
    return Mat3{{sx, 0, 0, 0, sy, 0, 0, 0, 1}};
}
// Counter-clockwise on screen (y down) for positive cos/sin of the angle.
CS_HD Mat3 mat3_rotate(float c, float s) {
    return Mat3{{c, s, 0, -s, c, 0, 0, 0, 1}};
}

// Inverse by the adjugate; a singular matrix returns the zero matrix (callers never make one).
CS_HD Mat3 mat3_inverse(const Mat3& a) {
    const float* m = a.m;
    const float c0 = m[4] * m[8] - m[5] * m[7];
    const float c1 = m[5] * m[6] - m[3] * m[8];
    const float c2 = m[3] * m[7] - m[4] * m[6];
    const float det = m[0] * c0 + m[1] * c1 + m[2] * c2;
    Mat3 r{};
    if (det == 0.0f) return r;
    const float k = 1.0f / det;
    r.m[0] = c0 * k;
    r.m[1] = (m[2] * m[7] - m[1] * m[8]) * k;
    r.m[2] = (m[1] * m[5] - m[2] * m[4]) * k;
    r.m[3] = c1 * k;
    r.m[4] = (m[0] * m[8] - m[2] * m[6]) * k;
    r.m[5] = (m[2] * m[3] - m[0] * m[5]) * k;
    r.m[6] = c2 * k;
    r.m[7] = (m[1] * m[6] - m[0] * m[7]) * k;
    r.m[8] = (m[0] * m[4] - m[1] * m[3]) * k;
    return r;
}

CS_HD Vec2 mat3_apply(const Mat3& a, float x, float y) {
    const float w = a.m[6] * x + a.m[7] * y + a.m[8];
    const float iw = 1.0f / w;
    return Vec2{(a.m[0] * x + a.m[1] * y + a.m[2]) * iw, (a.m[3] * x + a.m[4] * y + a.m[5]) * iw};
}

// A card texture as the renderers read it: RGBA8 premultiplied by alpha (so that blurring and
// bilinear filtering mix colours correctly), with a transparent border of at least one pixel.
struct TexView {
    const uint8_t* data;
    int width, height, stride;  // stride in bytes
};

CS_HD uint32_t load_rgba32(const uint8_t* p) {
#if defined(__CUDA_ARCH__)
    return *reinterpret_cast<const uint32_t*>(p);
#else
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
#endif
}

// Bilinear sample at continuous texture coordinates (u, v), pixel (0, 0) covering [0,1)^2, with
// 8-bit weights that sum to 256, two channels per 32-bit multiply (R and B, then G and A), so
// that both backends produce the same integers cheaply. (u, v) are clamped to the texture's
// pixel centres; the transparent border makes the clamp invisible and gives card edges their
// antialiasing. out = premultiplied R, G, B, A in 0..255.
CS_HD void sample_bilinear(const TexView& t, float u, float v, uint32_t out[4]) {
    float x = u - 0.5f, y = v - 0.5f;
    const float xmax = static_cast<float>(t.width - 1) - 0.001f;
    const float ymax = static_cast<float>(t.height - 1) - 0.001f;
    x = x < 0.0f ? 0.0f : (x > xmax ? xmax : x);
    y = y < 0.0f ? 0.0f : (y > ymax ? ymax : y);
    const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
    const uint32_t fx = static_cast<uint32_t>((x - static_cast<float>(x0)) * 256.0f);
    const uint32_t fy = static_cast<uint32_t>((y - static_cast<float>(y0)) * 256.0f);
    const uint32_t w11 = (fx * fy + 128u) >> 8;
    const uint32_t w10 = fx - w11, w01 = fy - w11, w00 = 256u - fx - fy + w11;
    const uint8_t* p0 = t.data + y0 * t.stride + x0 * 4;
    const uint8_t* p1 = p0 + t.stride;
    const uint32_t a = load_rgba32(p0), b = load_rgba32(p0 + 4);
    const uint32_t c = load_rgba32(p1), d = load_rgba32(p1 + 4);
    constexpr uint32_t kLanes = 0x00FF00FFu;
    const uint32_t rb = ((a & kLanes) * w00 + (b & kLanes) * w10 + (c & kLanes) * w01 +
                         (d & kLanes) * w11 + 0x00800080u) >>
                        8;
    const uint32_t ga = (((a >> 8) & kLanes) * w00 + ((b >> 8) & kLanes) * w10 +
                         ((c >> 8) & kLanes) * w01 + ((d >> 8) & kLanes) * w11 + 0x00800080u) >>
                        8;
    out[0] = rb & 0xFFu;
    out[1] = ga & 0xFFu;
    out[2] = (rb >> 16) & 0xFFu;
    out[3] = (ga >> 16) & 0xFFu;
}

// Exact division by 255 with rounding, for 0 <= x <= 255 * 255.
CS_HD uint32_t div255(uint32_t x) {
    x += 128u;
    return (x + (x >> 8)) >> 8;
}

// Source-over of a premultiplied sample onto an opaque RGB pixel.
CS_HD void blend_over(uint8_t* dst, const uint32_t src[4]) {
    const uint32_t inv = 255u - src[3];
    for (int c = 0; c < 3; ++c) {
        const uint32_t v = src[c] + div255(dst[c] * inv);
        dst[c] = static_cast<uint8_t>(v > 255u ? 255u : v);
    }
}

// Darkens an RGB pixel by coverage a (0..255) times opacity (0..256, 8.8 fixed point).
CS_HD void darken(uint8_t* dst, uint32_t a, uint32_t opacity256) {
    const uint32_t k = 255u - ((a * opacity256) >> 8);
    for (int c = 0; c < 3; ++c) dst[c] = static_cast<uint8_t>(div255(dst[c] * k));
}

// The x range of pixel centres on row y (centre y + 0.5) whose image under `inv` (frame pixel ->
// texture coordinates) falls inside [u0, u1] x [v0, v1]. Every constraint is linear in x once
// multiplied by the (positive) homogeneous denominator, so this holds for perspective too.
// Returns false when the row misses the rectangle; otherwise [*x_lo, *x_hi] (inclusive).
CS_HD bool row_span(const Mat3& inv, float y, float u0, float u1, float v0, float v1, int* x_lo,
                    int* x_hi) {
    const float* m = inv.m;
    const float yc = y + 0.5f;
    const float dA = m[6], dB = m[7] * yc + m[8];  // denominator = dA * x + dB
    const float uA = m[0], uB = m[1] * yc + m[2];
    const float vA = m[3], vB = m[4] * yc + m[5];
    // Constraints a * x + b >= 0.
    const float a[4] = {uA - u0 * dA, u1 * dA - uA, vA - v0 * dA, v1 * dA - vA};
    const float b[4] = {uB - u0 * dB, u1 * dB - uB, vB - v0 * dB, v1 * dB - vB};
    float lo = -1e30f, hi = 1e30f;
    for (int k = 0; k < 4; ++k) {
        if (a[k] > 1e-12f || a[k] < -1e-12f) {
            const float r = -b[k] / a[k];
            if (a[k] > 0.0f)
                lo = r > lo ? r : lo;
            else
                hi = r < hi ? r : hi;
        } else if (b[k] < 0.0f) {
            return false;
        }
    }
    if (lo > hi) return false;
    // Pixel centre x + 0.5 inside [lo, hi]; clamp before converting so no float overflows int.
    lo = lo < -1e8f ? -1e8f : (lo > 1e8f ? 1e8f : lo);
    hi = hi < -1e8f ? -1e8f : (hi > 1e8f ? 1e8f : hi);
    *x_lo = static_cast<int>(ceilf(lo - 0.5f));
    *x_hi = static_cast<int>(floorf(hi - 0.5f));
    return *x_lo <= *x_hi;
}

CS_HD float clamp01(float v) {
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

// Coverage of a rounded rectangle [0,w]x[0,h] with corner radius r at point (u, v), with a
// one-unit ramp across each rounded corner's arc. Textures bake it into their alpha.
CS_HD float corner_coverage(float u, float v, float w, float h, float r) {
    if (r <= 0.0f) return 1.0f;
    const float cx = u < r ? r - u : (u > w - r ? u - (w - r) : 0.0f);
    const float cy = v < r ? r - v : (v > h - r ? v - (h - r) : 0.0f);
    if (cx <= 0.0f || cy <= 0.0f) return 1.0f;
    const float d2 = cx * cx + cy * cy;
    if (d2 <= (r - 0.5f) * (r - 0.5f)) return 1.0f;
#if defined(__CUDA_ARCH__)
    const float d = sqrtf(d2);
#else
    const float d = __builtin_sqrtf(d2);
#endif
    return clamp01(r + 0.5f - d);
}

// Whether a pixel belongs to a card in the id buffer: its centre maps inside the card's outline
// (the texture's inner rectangle, [pad, w - pad] x [pad, h - pad]) where the card is at least an
// eighth opaque, or the card is at least half opaque there. A half-opaque threshold alone would
// shave the tip off every sharp corner (bilinear alpha is a quarter there); the outline test
// keeps corners exact while transparent parts of a card, and blur outside it, still count by
// their alpha.
constexpr uint32_t kIdAlphaThreshold = 128;
constexpr uint32_t kIdAlphaInsideThreshold = 32;

CS_HD bool id_covers(float u, float v, float pad, float tex_w, float tex_h, uint32_t alpha) {
    if (alpha >= kIdAlphaThreshold) return true;
    return alpha >= kIdAlphaInsideThreshold && u >= pad && u <= tex_w - pad && v >= pad &&
           v <= tex_h - pad;
}

}  // namespace cardsynth
