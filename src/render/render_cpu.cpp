// The CPU backend: OpenMP runs one image per thread; inside an image, cards are drawn in
// painter's order, each only inside its own box, by inverse mapping with one pass that samples
// and blends (no full-frame temporaries per card; blur works on the small texture).
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <vector>

#include <omp.h>

#include "base/parallel.h"
#include "render/composite_row.h"
#include "render/kernels/card_pass.h"
#include "render/kernels/gaussian_fixed.h"
#include "render/kernels/shading.h"
#include "render/render.h"
#include "render/texture_cache.h"

namespace cardsynth {
namespace {

// Draws one texture through `to_texture` over rows [y0, y1), calling
// `op(pixel, sample, x, y, u, v)` where the texture is not transparent.
template <typename Op>
void for_each_covered(const TexView& tex, const Mat3& to_texture, const CardPass& pass, int width,
                      Op op, uint8_t* rgb, size_t rgb_stride) {
    const float* m = to_texture.m;
    const bool affine = m[6] == 0.0f && m[7] == 0.0f;
    for (int y = pass.y0; y < pass.y1; ++y) {
        int xa, xb;
        if (!row_span(to_texture, static_cast<float>(y), 0.0f, tex.width, 0.0f, tex.height, &xa,
                      &xb))
            continue;
        xa = std::max(xa, 0);
        xb = std::min(xb, width - 1);
        const float yc = static_cast<float>(y) + 0.5f;
        uint8_t* row = rgb + static_cast<size_t>(y) * rgb_stride;
        uint32_t s[4];
        if (affine) {
            const float ub = m[1] * yc + m[2], vb = m[4] * yc + m[5];
            for (int x = xa; x <= xb; ++x) {
                const float xc = static_cast<float>(x) + 0.5f;
                const float u = m[0] * xc + ub, v = m[3] * xc + vb;
                sample_bilinear(tex, u, v, s);
                if (s[3] == 0) continue;
                op(row + x * 3, s, x, y, u, v);
            }
        } else {
            for (int x = xa; x <= xb; ++x) {
                const float xc = static_cast<float>(x) + 0.5f;
                const Vec2 t = mat3_apply(to_texture, xc, yc);
                sample_bilinear(tex, t.x, t.y, s);
                if (s[3] == 0) continue;
                op(row + x * 3, s, x, y, t.x, t.y);
            }
        }
    }
}

class CpuRenderer : public Renderer {
  public:
    explicit CpuRenderer(const RenderInputs& in) : in_(in), cache_(make_texture_cache(in)) {}

    void render(const std::vector<SceneSpec>& scenes, std::vector<Frame>& frames) override {
        frames.resize(scenes.size());
        parallel_for(static_cast<int>(scenes.size()), in_.threads,
                     [&](int i) { render_one(scenes[i], frames[i]); });
    }

    std::string name() const override { return "cpu"; }

    bool renders_per_thread() const override { return true; }

    void render_one(const SceneSpec& scene, Frame& frame) override {
        const int W = scene.width, H = scene.height;
        frame.rgb.create(H, W, CV_8UC3);
        frame.ids.create(H, W, CV_8UC1);
        frame.ids.setTo(0);
        const cv::Mat& bg = in_.backgrounds->level(scene.background, scene.background_level);
        bg(cv::Rect(scene.crop_x, scene.crop_y, W, H)).copyTo(frame.rgb);

        uint8_t* rgb = frame.rgb.data;
        const size_t stride = frame.rgb.step[0];
        for (size_t k = 0; k < scene.cards.size(); ++k) {
            const CardPlacement& card = scene.cards[k];
            const int level = cache_->level_for_height(card.height);
            const TexturePtr sharp = cache_->get(card.card_id, level);
            const CardPass pass = plan_card_pass(card, sharp->inner_width, sharp->inner_height,
                                                 kTexturePad, scene.effects, W, H);
            TexView view{sharp->rgba.data, sharp->rgba.cols, sharp->rgba.rows,
                         static_cast<int>(sharp->rgba.step[0])};
            if (pass.blur_radius > 0) view = blur(view, pass.blur_sigma, pass.blur_radius);
            if (pass.shadow_opacity256) {
                const uint32_t op = pass.shadow_opacity256;
                for_each_covered(
                    view, pass.shadow_to_texture, pass, W,
                    [op](uint8_t* px, const uint32_t* s, int, int, float, float) {
                        darken(px, s[3], op);
                    },
                    rgb, stride);
            }
            const uint8_t slot = static_cast<uint8_t>(k + 1);
            const float pad = static_cast<float>(pass.pad);
            uint8_t* ids = frame.ids.data;
            const size_t ids_stride = frame.ids.step[0];
            const float* m = pass.to_texture.m;
            if (m[6] == 0.0f && m[7] == 0.0f) {
                for (int y = pass.y0; y < pass.y1; ++y) {
                    int xa, xb;
                    if (!row_span(pass.to_texture, static_cast<float>(y), 0.0f, view.width, 0.0f,
                                  view.height, &xa, &xb))
                        continue;
                    RowJob job{view,
                               m,
                               static_cast<float>(y) + 0.5f,
                               std::max(xa, 0),
                               std::min(xb, W - 1),
                               rgb + static_cast<size_t>(y) * stride,
                               ids + static_cast<size_t>(y) * ids_stride,
                               slot,
                               pad};
                    if (job.xa <= job.xb) composite_row(job);
                }
                continue;
            }
            for_each_covered(
                view, pass.to_texture, pass, W,
                [&](uint8_t* px, const uint32_t* s, int x, int y, float u, float v) {
                    blend_over(px, s);
                    if (id_covers(u, v, pad, view.width, view.height, s[3]))
                        ids[static_cast<size_t>(y) * ids_stride + x] = slot;
                },
                rgb, stride);
        }
        shade(scene, frame.rgb);
    }

  private:
    // The texture blurred by `sigma` (a multiple of 1 / kBlurSteps texture pixels) with a
    // (2 radius + 1)-tap kernel, its border grown by `radius`, into this thread's scratch: a blur
    // of a card-sized texture costs less than finding it again in a cache.
    static TexView blur(const TexView& sharp, float sigma, int radius) {
        struct Scratch {
            GaussianScratch gauss;
            std::vector<uint8_t> pixels;
            std::unordered_map<int, std::vector<uint16_t>> taps;  // by sigma in steps
        };
        thread_local Scratch scratch;
        const int key = static_cast<int>(std::lround(sigma * kBlurSteps));
        auto it = scratch.taps.find(key);
        if (it == scratch.taps.end())
            it = scratch.taps.emplace(key, gaussian_taps_q8(2 * radius + 1, sigma)).first;
        const int w = sharp.width + 2 * radius, h = sharp.height + 2 * radius;
        scratch.pixels.resize(static_cast<size_t>(w) * h * 4);
        gaussian_blur_rgba(sharp.data, sharp.width, sharp.height, sharp.stride, radius,
                           it->second.data(), scratch.pixels.data(), w * 4, scratch.gauss);
        return TexView{scratch.pixels.data(), w, h, w * 4};
    }

    static void shade(const SceneSpec& scene, cv::Mat& rgb) {
        const ShadingParams p = shading_params(scene);
        if (!shading_active(p)) return;
        std::vector<float> gx, gy;
        if (p.glare_strength > 0) {
            append_glare_profile(p.glare_x, p.glare_inv_r2, scene.width, gx);
            append_glare_profile(p.glare_y, p.glare_inv_r2, scene.height, gy);
        } else {
            gx.assign(scene.width, 0.0f);
            gy.assign(scene.height, 0.0f);
        }
        for (int y = 0; y < scene.height; ++y) {
            uint8_t* row = rgb.ptr<uint8_t>(y);
            for (int x = 0; x < scene.width; ++x) shade_pixel(p, x, y, gx[x] * gy[y], row + 3 * x);
        }
    }

    RenderInputs in_;
    std::unique_ptr<TextureCache> cache_;
};

}  // namespace

std::unique_ptr<Renderer> make_cpu_renderer(const RenderInputs& inputs) {
    return std::make_unique<CpuRenderer>(inputs);
}

}  // namespace cardsynth
