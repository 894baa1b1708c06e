// The geometry both renderers share: homographies, the inverse mapping from a frame pixel to a
// card texture, bilinear sampling with a transparent border, and rounded-corner coverage. Every
// function here compiles for host and device, so the CPU and the GPU compute the same function.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CS_HD __host__ __device__ inline
#else
#define CS_HD inline
#endif

namespace cardsynth {

struct Vec2 {
    float x, y;
};

// Row-major 3x3 matrix acting on column vectors (x, y, 1).
struct Mat3 {
    float m[9];
};

CS_HD Mat3 mat3_identity() { return Mat3{{1, 0, 0, 0, 1, 0, 0, 0, 1}}; }

CS_HD Mat3 mat3_mul(const Mat3& a, const Mat3& b) {
    Mat3 r;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            r.m[i * 3 + j] =
                a.m[i * 3] * b.m[j] + a.m[i * 3 + 1] * b.m[3 + j] + a.m[i * 3 + 2] * b.m[6 + j];
    return r;
}

CS_HD Mat3 mat3_translate(float tx, float ty) { return Mat3{{1, 0, tx, 0, 1, ty, 0, 0, 1}}; }
CS_HD Mat3 mat3_scale(float sx, float sy) { return Mat3{{sx, 0, 0, 0, sy, 0, 0, 0, 1}}; }
// Counter-clockwise on screen (y down) for positive cos/sin of the angle.
CS_HD Mat3 mat3_rotate(float c, float s) { return Mat3{{c, s, 0, -s, c, 0, 0, 0, 1}}; }

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

struct Rgba {
    float r, g, b, a;  // premultiplied by a, 0..255
};

// Bilinear sample of an RGBA8 texture (straight alpha) at continuous coordinates (u, v), pixel
// (0, 0) covering [0,1)^2. Outside the texture counts as transparent, which is what gives card
// edges their antialiasing. Returns premultiplied colour.
CS_HD Rgba sample_bilinear(const uint8_t* tex, int w, int h, int stride, float u, float v) {
    const float x = u - 0.5f, y = v - 0.5f;
    const float fx0 = x < 0.0f ? -1.0f : static_cast<float>(static_cast<int>(x));
    const float fy0 = y < 0.0f ? -1.0f : static_cast<float>(static_cast<int>(y));
    const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
    const float ax = x - fx0, ay = y - fy0;
    Rgba out{0, 0, 0, 0};
    for (int dy = 0; dy < 2; ++dy) {
        const int yy = y0 + dy;
        if (yy < 0 || yy >= h) continue;
        const float wy = dy ? ay : 1.0f - ay;
        for (int dx = 0; dx < 2; ++dx) {
            const int xx = x0 + dx;
            if (xx < 0 || xx >= w) continue;
            const float wgt = wy * (dx ? ax : 1.0f - ax);
            const uint8_t* p = tex + yy * stride + xx * 4;
            const float a = wgt * p[3] * (1.0f / 255.0f);
            out.r += a * p[0];
            out.g += a * p[1];
            out.b += a * p[2];
            out.a += wgt * p[3];
        }
    }
    return out;
}

CS_HD float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

// Coverage of a rounded rectangle [0,w]x[0,h] with corner radius r at point (u, v), with a
// one-unit ramp across the edge of each rounded corner. Straight edges are left to the
// transparent border of the bilinear sampler, so this only cuts the corners.
CS_HD float corner_coverage(float u, float v, float w, float h, float r) {
    if (r <= 0.0f) return 1.0f;
    const float cx = u < r ? r - u : (u > w - r ? u - (w - r) : 0.0f);
    const float cy = v < r ? r - v : (v > h - r ? v - (h - r) : 0.0f);
    if (cx <= 0.0f || cy <= 0.0f) return 1.0f;
    const float d2 = cx * cx + cy * cy;
    if (d2 <= (r - 0.5f) * (r - 0.5f)) return 1.0f;
    // sqrt only near the arc.
#if defined(__CUDA_ARCH__)
    const float d = sqrtf(d2);
#else
    const float d = __builtin_sqrtf(d2);
#endif
    return clamp01(r + 0.5f - d);
}

// Alpha at or above this threshold writes a card's slot into the id buffer. For a blurred
// straight edge, 0.5 lies on the geometric edge.
constexpr float kIdAlphaThreshold = 127.5f;

}  // namespace cardsynth
