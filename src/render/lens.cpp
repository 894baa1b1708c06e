#include "render/lens.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace cardsynth {

Lens lens_of(const SceneSpec& scene) {
    Lens lens;
    lens.k1 = scene.camera.lens_k1;
    lens.cx = scene.width / 2.0, lens.cy = scene.height / 2.0;
    lens.radius = std::hypot(lens.cx, lens.cy);
    return lens;
}

Vec2 lens_source(const Lens& lens, Vec2 p) {
    const double dx = p.x - lens.cx, dy = p.y - lens.cy;
    const double r2 = (dx * dx + dy * dy) / (lens.radius * lens.radius);
    const double s = 1.0 + lens.k1 * r2;
    return {static_cast<float>(lens.cx + dx * s), static_cast<float>(lens.cy + dy * s)};
}

Vec2 lens_image(const Lens& lens, Vec2 p) {
    const double dx = p.x - lens.cx, dy = p.y - lens.cy;
    const double u = std::hypot(dx, dy) / lens.radius;
    if (u == 0.0 || lens.k1 == 0.0) return p;
    // Solve r + k1 r^3 = u. For k1 < 0 the left side rises to its top at r* = 1 / sqrt(-3 k1),
    // past the frame's corner for every k1 >= -1/3; Newton from r = u, below the root, climbs to
    // it without overshooting (the function is concave there).
    const double top = 1.0 / std::sqrt(-3.0 * lens.k1);
    const double reach = top + lens.k1 * top * top * top;
    double r = u;
    if (u >= reach) {
        r = top + (u - reach);
    } else {
        for (int i = 0; i < 50; ++i) {
            const double step = (u - r - lens.k1 * r * r * r) / (1.0 + 3.0 * lens.k1 * r * r);
            r += step;
            if (std::fabs(step) < 1e-12) break;
        }
    }
    const double s = r / u;
    return {static_cast<float>(lens.cx + dx * s), static_cast<float>(lens.cy + dy * s)};
}

void apply_lens(const Lens& lens, cv::Mat& rgb, cv::Mat& ids) {
    if (!lens.active()) return;
    struct Scratch {
        cv::Mat map_x, map_y, rgb, ids;
    };
    thread_local Scratch s;
    s.map_x.create(rgb.size(), CV_32F);
    s.map_y.create(rgb.size(), CV_32F);
    // lens_source at every pixel centre, in floats that the compiler can vectorise (a millionth
    // of a pixel from the double form); remap's coordinates count from the first pixel's centre.
    const float cx = static_cast<float>(lens.cx), cy = static_cast<float>(lens.cy);
    const float k = static_cast<float>(lens.k1 / (lens.radius * lens.radius));
    for (int y = 0; y < rgb.rows; ++y) {
        float* mx = s.map_x.ptr<float>(y);
        float* my = s.map_y.ptr<float>(y);
        const float dy = static_cast<float>(y) + 0.5f - cy;
        for (int x = 0; x < rgb.cols; ++x) {
            const float dx = static_cast<float>(x) + 0.5f - cx;
            const float scale = 1.0f + k * (dx * dx + dy * dy);
            mx[x] = cx + dx * scale - 0.5f, my[x] = cy + dy * scale - 0.5f;
        }
    }
    rgb.copyTo(s.rgb);
    ids.copyTo(s.ids);
    cv::remap(s.rgb, rgb, s.map_x, s.map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::remap(s.ids, ids, s.map_x, s.map_y, cv::INTER_NEAREST, cv::BORDER_REPLICATE);
}

}  // namespace cardsynth
