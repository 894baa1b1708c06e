#include "render/occluders.h"

#include "base/rng.h"
#include "scene/distractors.h"

namespace cardsynth {

void paint_occluders(const SceneSpec& scene, uint8_t* rgb, size_t stride, cv::Mat& ids) {
    if (scene.occluders <= 0) return;
    Rng rng(scene.seed, static_cast<uint64_t>(scene.index), kOccluderPaintStream);
    for (int k = 0; k < scene.occluders; ++k) {
        const ObjectPatch p = draw_object(rng, scene.width, scene.height);
        for (int y = 0; y < p.area.height; ++y) {
            const cv::Vec3f* colour = p.premultiplied.ptr<cv::Vec3f>(y);
            const float* a = p.coverage.ptr<float>(y);
            uint8_t* px = rgb + static_cast<size_t>(p.area.y + y) * stride + 3 * p.area.x;
            uint8_t* id = ids.ptr<uint8_t>(p.area.y + y) + p.area.x;
            for (int x = 0; x < p.area.width; ++x, px += 3) {
                if (a[x] <= 0.0f) continue;
                for (int c = 0; c < 3; ++c)
                    px[c] = cv::saturate_cast<uint8_t>(colour[x][c] + (1.0f - a[x]) * px[c]);
                if (a[x] >= 0.5f) id[x] = 0;
            }
        }
    }
}

}  // namespace cardsynth
