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
#include "render/lens.h"
#include "render/occluders.h"
#include "render/render.h"
#include "render/shade_row.h"
#include "render/texture_cache.h"

namespace cardsynth {
namespace {

// Where a texture is certainly opaque, in the coordinates of the texture as drawn: a cross of
// two rectangles (the rounded corners cut out), each shrunk by the blur's reach and by a texel
// for the bilinear taps, so that every sample inside has alpha 255.
struct OpaqueCore {
    bool valid = false;
    float u0[2], u1[2], v0[2], v1[2];
};

OpaqueCore opaque_core(const CardTexture& t, const CardPass& pass) {
    OpaqueCore c;
    if (t.opaque_corner < 0) return c;
    c.valid = true;
    // Sharp texels [lo, hi] all opaque leave blurred texels [lo + 2r, hi] opaque (the blurred
    // texture is shifted by r), and samples at u in [lo + 1, hi] read only those.
    const float r2 = static_cast<float>(2 * pass.blur_radius), k = static_cast<float>(kTexturePad);
    const float w = static_cast<float>(t.inner_width), h = static_cast<float>(t.inner_height);
    const float corner = static_cast<float>(t.opaque_corner);
    for (int arm = 0; arm < 2; ++arm) {
        const float cu = arm == 0 ? 0.0f : corner, cv = arm == 0 ? corner : 0.0f;
        c.u0[arm] = k + cu + r2 + 1.0f, c.u1[arm] = k + w - 1.0f - cu;
        c.v0[arm] = k + cv + r2 + 1.0f, c.v1[arm] = k + h - 1.0f - cv;
    }
    return c;
}

// The pixels of row y that map into the opaque core through `to_texture`: [*a, *b] (a subset when
// the row crosses the two arms apart), or *a > *b.
void core_span(const Mat3& to_texture, int y, const OpaqueCore& c, int* a, int* b) {
    *a = 1, *b = 0;
    if (!c.valid) return;
    int lo[2], hi[2];
    bool hit[2];
    for (int arm = 0; arm < 2; ++arm)
        hit[arm] = row_span(to_texture, static_cast<float>(y), c.u0[arm], c.u1[arm], c.v0[arm],
                            c.v1[arm], &lo[arm], &hi[arm]);
    if (hit[0] && hit[1] && lo[0] <= hi[1] + 1 && lo[1] <= hi[0] + 1) {
        *a = std::min(lo[0], lo[1]), *b = std::max(hi[0], hi[1]);
    } else if (hit[0] && (!hit[1] || hi[0] - lo[0] >= hi[1] - lo[1])) {
        *a = lo[0], *b = hi[0];
    } else if (hit[1]) {
        *a = lo[1], *b = hi[1];
    }
}

// Pixels [lo, hi] of one shadow row: sampled outside the shadow's core [sa, sb], darkened by
// the full opacity inside it.
void shadow_segment(ShadowJob job, int lo, int hi, int sa, int sb) {
    if (lo > hi) return;
    if (sa > sb || sb < lo || sa > hi) {
        job.xa = lo, job.xb = hi;
        shadow_row(job);
        return;
    }
    if (sa > lo) job.xa = lo, job.xb = sa - 1, shadow_row(job);
    const int a = std::max(lo, sa), b = std::min(hi, sb);
    darken_run(job.rgb + a * 3, b - a + 1, job.opacity256);
    if (sb < hi) job.xa = sb + 1, job.xb = hi, shadow_row(job);
}

// The shadow of one card, drawn just before the card: where the card itself is opaque it
// replaces the pixel whatever lies below, so the shadow skips the card's opaque core; inside
// the shadow's own core its alpha is 255 and needs no sample. The bytes are those of darkening
// every pixel the shadow covers.
void draw_shadow(const TexView& tex, const CardPass& pass, const OpaqueCore& core, int width,
                 uint8_t* rgb, size_t stride) {
    const Mat3& m = pass.shadow_to_texture;
    const uint32_t op = pass.shadow_opacity256;
    for (int y = pass.y0; y < pass.y1; ++y) {
        int xa, xb, ca, cb, sa, sb;
        if (!row_span(m, static_cast<float>(y), 0.0f, tex.width, 0.0f, tex.height, &xa, &xb))
            continue;
        xa = std::max(xa, 0);
        xb = std::min(xb, width - 1);
        core_span(pass.to_texture, y, core, &ca, &cb);
        core_span(m, y, core, &sa, &sb);
        uint8_t* row = rgb + static_cast<size_t>(y) * stride;
        const ShadowJob job{tex, m.m, static_cast<float>(y) + 0.5f, xa, xb, row, op};
        if (ca > cb || cb < xa || ca > xb) {
            shadow_segment(job, xa, xb, sa, sb);
        } else {
            shadow_segment(job, xa, ca - 1, sa, sb);
            shadow_segment(job, cb + 1, xb, sa, sb);
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
            if (pass.shadow_opacity256)
                draw_shadow(view, pass, opaque_core(*sharp, pass), W, rgb, stride);
            const uint8_t slot = static_cast<uint8_t>(k + 1);
            const float pad = static_cast<float>(pass.pad);
            uint8_t* ids = frame.ids.data;
            const size_t ids_stride = frame.ids.step[0];
            for (int y = pass.y0; y < pass.y1; ++y) {
                int xa, xb;
                if (!row_span(pass.to_texture, static_cast<float>(y), 0.0f, view.width, 0.0f,
                              view.height, &xa, &xb))
                    continue;
                RowJob job{view,
                           pass.to_texture.m,
                           static_cast<float>(y) + 0.5f,
                           std::max(xa, 0),
                           std::min(xb, W - 1),
                           rgb + static_cast<size_t>(y) * stride,
                           ids + static_cast<size_t>(y) * ids_stride,
                           slot,
                           pad};
                if (job.xa <= job.xb) composite_row(job);
            }
        }
        paint_occluders(scene, rgb, stride, frame.ids);
        apply_lens(lens_of(scene), frame.rgb, frame.ids);
        // The camera's motion blur smears what the scene shows, before the light and the sensor.
        motion_blur_frame(scene.camera, rgb, stride, W, H);
        const ColourTable colour = colour_table(scene.camera);
        shade_frame(shading_params(scene), rgb, stride, &colour);
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

    RenderInputs in_;
    std::unique_ptr<TextureCache> cache_;
};

}  // namespace

std::unique_ptr<Renderer> make_cpu_renderer(const RenderInputs& inputs) {
    return std::make_unique<CpuRenderer>(inputs);
}

}  // namespace cardsynth
