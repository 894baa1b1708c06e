// Planning for the CUDA backend: the host-side decisions, in the order the GPU consumes them.
#include "render/cuda_plan.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/error.h"
#include "render/kernels/gaussian_fixed.h"
#include "render/shade_row.h"
#include "render/texture_cache.h"

namespace cardsynth {

std::vector<SubBatch> split_sub_batches(const std::vector<SceneSpec>& scenes) {
    std::vector<SubBatch> out;
    size_t begin = 0;
    while (begin < scenes.size()) {
        size_t pixels = 0, end = begin;
        while (end < scenes.size() && end - begin < kSubBatchMaxImages) {
            pixels += static_cast<size_t>(scenes[end].width) * scenes[end].height;
            ++end;
            if (pixels >= kSubBatchPixels) break;
        }
        out.push_back({begin, end});
        begin = end;
    }
    return out;
}

std::vector<int64_t> sub_batch_textures(const std::vector<SceneSpec>& scenes, SubBatch range,
                                        const std::function<int(double)>& level_for_height) {
    std::vector<int64_t> keys;
    for (size_t i = range.begin; i < range.end; ++i)
        for (const CardPlacement& card : scenes[i].cards)
            keys.push_back(texture_key(card.card_id, level_for_height(card.height)));
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

namespace {

// Appends a blur of `tex` to the plan and makes `pass` sample its output, which is r pixels
// larger on every side; scratch offsets are aligned so that each job's buffers start aligned.
void plan_blur(CudaPlan& plan, PlannedPass& pass, const TextureShape& tex, const CardPass& card) {
    const int r = card.blur_radius;
    PlannedBlur job{};
    job.record.w = tex.width, job.record.h = tex.height, job.record.stride = tex.width * 4;
    job.record.r = r;
    job.texture = pass.texture;
    job.sigma = card.blur_sigma;
    const size_t ow = static_cast<size_t>(tex.width) + 2 * r;
    const size_t oh = static_cast<size_t>(tex.height) + 2 * r;
    job.rows = plan.scratch_bytes;
    plan.scratch_bytes += align_device(ow * tex.height * 4 * sizeof(uint16_t));
    job.out = plan.scratch_bytes;
    plan.scratch_bytes += align_device(ow * oh * 4);
    job.taps = plan.taps.size();
    const std::vector<uint16_t> k = gaussian_taps_q8(2 * r + 1, card.blur_sigma);
    plan.taps.insert(plan.taps.end(), k.begin(), k.end());
    pass.blur_job = static_cast<int>(plan.blurs.size());
    pass.record.tex_w = static_cast<int>(ow), pass.record.tex_h = static_cast<int>(oh);
    pass.record.tex_stride = static_cast<int>(ow) * 4;
    plan.blurs.push_back(job);
}

void plan_card(CudaPlan& plan, const SceneSpec& scene, const CardPlacement& card,
               const PlanInputs& in) {
    PlannedPass pp{};
    pp.texture = texture_key(card.card_id, in.level_for_height(card.height));
    const TextureShape tex = in.texture_shape(pp.texture);
    const CardPass pass = plan_card_pass(card, tex.inner_width, tex.inner_height, kTexturePad,
                                         scene.effects, scene.width, scene.height);
    DevPass& p = pp.record;
    p.to_texture = pass.to_texture;
    p.shadow_to_texture = pass.shadow_to_texture;
    p.x0 = pass.x0, p.y0 = pass.y0, p.x1 = pass.x1, p.y1 = pass.y1;
    p.shadow_opacity256 = pass.shadow_opacity256;
    p.pad = static_cast<float>(pass.pad);
    p.tex_w = tex.width, p.tex_h = tex.height, p.tex_stride = tex.width * 4;
    // A card whose box is empty draws nothing: no blur to pay for.
    if (pass.blur_radius > 0 && pass.x0 < pass.x1 && pass.y0 < pass.y1)
        plan_blur(plan, pp, tex, pass);
    plan.passes.push_back(pp);
}

void plan_image(CudaPlan& plan, const SceneSpec& scene, const PlanInputs& in) {
    const int W = scene.width, H = scene.height;
    const cv::Size bg = in.background_size(scene.background, scene.background_level);
    if (scene.crop_x < 0 || scene.crop_y < 0 || scene.crop_x + W > bg.width ||
        scene.crop_y + H > bg.height)
        throw Error("render: image " + std::to_string(scene.index) + " crops outside background " +
                    std::to_string(scene.background));
    if (motion_blur_taps(scene.camera) >= 2)
        throw Error("render: image " + std::to_string(scene.index) +
                    " has a motion blur, which the CUDA backend does not draw");
    if (scene.camera.lens_k1 != 0.0f)
        throw Error("render: image " + std::to_string(scene.index) +
                    " has a lens distortion, which the CUDA backend does not draw");
    if (scene.occluders > 0)
        throw Error("render: image " + std::to_string(scene.index) +
                    " has objects over its cards, which the CUDA backend does not draw");
    PlannedImage pi{};
    pi.background = scene.background, pi.level = scene.background_level;
    DevImage& im = pi.record;
    im.bg_stride = static_cast<size_t>(bg.width) * 3;
    im.crop_x = scene.crop_x, im.crop_y = scene.crop_y, im.width = W, im.height = H;
    im.first_pass = static_cast<int>(plan.passes.size());
    im.passes = static_cast<int>(scene.cards.size());
    im.rgb_offset = plan.rgb_bytes, im.ids_offset = plan.ids_bytes;
    plan.rgb_bytes += static_cast<size_t>(W) * H * 3;
    plan.ids_bytes += static_cast<size_t>(W) * H;
    plan.most_width = std::max(plan.most_width, W);
    plan.most_height = std::max(plan.most_height, H);

    for (const CardPlacement& card : scene.cards) plan_card(plan, scene, card, in);

    // The shading parameters and glare tables exactly as render_cpu makes them.
    im.shading = shading_params(scene);
    im.shade = shading_active(im.shading) ? 1 : 0;
    im.glare_offset = -1;
    if (im.shade && im.shading.glare_strength > 0) {
        im.glare_offset = static_cast<int>(plan.glare.size());
        const ShadingParams& p = im.shading;
        append_glare_profile(p.glare_x, p.glare_inv_r2, W, plan.glare);
        append_glare_profile(p.glare_y, p.glare_inv_r2, H, plan.glare);
    }
    // The camera's colour table as render_cpu makes it; the CPU's own motion blur has no
    // counterpart here (make_cuda_renderer refuses it).
    const ColourTable colour = colour_table(scene.camera);
    im.colour = -1;
    if (colour.active) {
        im.colour = static_cast<int>(plan.colours.size());
        plan.colours.push_back(colour);
    }
    plan.images.push_back(pi);
}

// Launches of at most kMaxBlurJobsPerLaunch jobs, each with blocks for its largest job.
void plan_blur_launches(CudaPlan& plan) {
    const size_t n = plan.blurs.size();
    for (size_t first = 0; first < n; first += kMaxBlurJobsPerLaunch) {
        const size_t count = std::min<size_t>(kMaxBlurJobsPerLaunch, n - first);
        size_t most_rows = 0, most_out = 0;
        for (size_t j = first; j < first + count; ++j) {
            const BlurJob& b = plan.blurs[j].record;
            const size_t ow = static_cast<size_t>(b.w) + 2 * b.r;
            most_rows = std::max(most_rows, ow * b.h);
            most_out = std::max(most_out, ow * (b.h + 2 * b.r));
        }
        BlurLaunch l;
        l.first = static_cast<int>(first), l.count = static_cast<int>(count);
        l.rows_blocks = static_cast<unsigned>((most_rows + kBlurThreads - 1) / kBlurThreads);
        l.out_blocks = static_cast<unsigned>((most_out + kBlurThreads - 1) / kBlurThreads);
        plan.blur_launches.push_back(l);
    }
}

UploadLayout plan_upload(const CudaPlan& plan) {
    UploadLayout u;
    size_t off = 0;
    u.images = off;
    off = align_device(off + plan.images.size() * sizeof(DevImage));
    u.passes = off;
    off = align_device(off + plan.passes.size() * sizeof(DevPass));
    u.jobs = off;
    off = align_device(off + plan.blurs.size() * sizeof(BlurJob));
    u.taps = off;
    off = align_device(off + plan.taps.size() * sizeof(uint16_t));
    u.glare = off;
    off = align_device(off + plan.glare.size() * sizeof(float));
    u.colours = off;
    off = align_device(off + plan.colours.size() * sizeof(ColourTable));
    u.bytes = std::max(off, kDeviceAlignment);
    return u;
}

}  // namespace

CudaPlan plan_sub_batch(const std::vector<SceneSpec>& scenes, SubBatch range,
                        const PlanInputs& inputs) {
    CudaPlan plan;
    for (size_t i = range.begin; i < range.end; ++i) plan_image(plan, scenes[i], inputs);
    plan_blur_launches(plan);
    plan.upload = plan_upload(plan);
    plan.scratch_bytes = std::max(plan.scratch_bytes, kDeviceAlignment);
    plan.ids_offset = align_device(plan.rgb_bytes);
    plan.out_bytes = plan.ids_offset + plan.ids_bytes;
    return plan;
}

void bind_device_addresses(CudaPlan& plan, const DeviceAddresses& at) {
    const uint16_t* taps = reinterpret_cast<const uint16_t*>(at.blob + plan.upload.taps);
    for (PlannedBlur& b : plan.blurs) {
        b.record.src = at.texture(b.texture);
        b.record.taps = taps + b.taps;
        b.record.rows = reinterpret_cast<uint16_t*>(at.scratch + b.rows);
        b.record.out = at.scratch + b.out;
    }
    for (PlannedPass& p : plan.passes)
        p.record.tex = p.blur_job >= 0 ? plan.blurs[static_cast<size_t>(p.blur_job)].record.out
                                       : at.texture(p.texture);
    for (PlannedImage& im : plan.images) im.record.bg = at.background(im.background, im.level);
}

void write_upload(const CudaPlan& plan, uint8_t* blob) {
    const UploadLayout& u = plan.upload;
    std::memset(blob, 0, u.bytes);  // no stale bytes in the padding between arrays
    for (size_t i = 0; i < plan.images.size(); ++i)
        std::memcpy(blob + u.images + i * sizeof(DevImage), &plan.images[i].record,
                    sizeof(DevImage));
    for (size_t i = 0; i < plan.passes.size(); ++i)
        std::memcpy(blob + u.passes + i * sizeof(DevPass), &plan.passes[i].record, sizeof(DevPass));
    for (size_t i = 0; i < plan.blurs.size(); ++i)
        std::memcpy(blob + u.jobs + i * sizeof(BlurJob), &plan.blurs[i].record, sizeof(BlurJob));
    if (!plan.taps.empty())
        std::memcpy(blob + u.taps, plan.taps.data(), plan.taps.size() * sizeof(uint16_t));
    if (!plan.glare.empty())
        std::memcpy(blob + u.glare, plan.glare.data(), plan.glare.size() * sizeof(float));
    if (!plan.colours.empty())
        std::memcpy(blob + u.colours, plan.colours.data(),
                    plan.colours.size() * sizeof(ColourTable));
}

}  // namespace cardsynth
