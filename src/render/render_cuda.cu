// The CUDA backend: the CPU backend's drawing moved to the GPU pixel by pixel. cuda_plan decides
// on the host what each sub-batch draws (the same plan_card_pass as the CPU, textures from the
// same TextureCache), so the GPU samples the same bytes through the same mapping; this file holds
// the kernels, their launches and the streams. One kernel thread per output pixel paints its
// background, walks its image's cards in painter's order and shades. Batches are cut into
// sub-batches on two streams so that one uploads and renders while the last downloads; events on
// the streams and host clocks measure where the time goes (timings()).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/parallel.h"
#include "base/text.h"
#include "render/cuda_buffers.h"
#include "render/cuda_plan.h"
#include "render/cuda_texture_cache.h"
#include "render/kernels/card_pass.h"
#include "render/kernels/gaussian_fixed.h"
#include "render/render.h"
#include "render/texture_cache.h"

// shading.h hashes with rng.h's constexpr splitmix64 on the device: CMake passes
// --expt-relaxed-constexpr for this file.
#include "render/kernels/shading.h"

namespace cardsynth {
namespace {

// Products and sums rounded one by one, as the host rounds them: nvcc would otherwise fuse them
// into FMAs and move edge samples by an ulp, enough to flip an id at the alpha threshold.
#if defined(__CUDA_ARCH__)
#define CS_MUL(a, b) __fmul_rn(a, b)
#define CS_ADD(a, b) __fadd_rn(a, b)
#define CS_DIV(a, b) __fdiv_rn(a, b)
#else
#define CS_MUL(a, b) ((a) * (b))
#define CS_ADD(a, b) ((a) + (b))
#define CS_DIV(a, b) ((a) / (b))
#endif

// The texture coordinates of a pixel centre, computed as render_cpu computes them, and the
// sample there. Returns false outside the texture rectangle, where render_cpu's row_span leaves
// the pixel alone.
CS_HD bool map_and_sample(const TexView& t, const Mat3& a, float xc, float yc, uint32_t s[4],
                          float& u, float& v) {
    const float* m = a.m;
    if (m[6] == 0.0f && m[7] == 0.0f) {
        // render_cpu: ub = m1 * yc + m2 per row, then u = m0 * xc + ub.
        u = CS_ADD(CS_MUL(m[0], xc), CS_ADD(CS_MUL(m[1], yc), m[2]));
        v = CS_ADD(CS_MUL(m[3], xc), CS_ADD(CS_MUL(m[4], yc), m[5]));
    } else {
        // mat3_apply.
        const float w = CS_ADD(CS_ADD(CS_MUL(m[6], xc), CS_MUL(m[7], yc)), m[8]);
        const float iw = CS_DIV(1.0f, w);
        u = CS_MUL(CS_ADD(CS_ADD(CS_MUL(m[0], xc), CS_MUL(m[1], yc)), m[2]), iw);
        v = CS_MUL(CS_ADD(CS_ADD(CS_MUL(m[3], xc), CS_MUL(m[4], yc)), m[5]), iw);
    }
    if (!(u >= 0.0f && u <= static_cast<float>(t.width) && v >= 0.0f &&
          v <= static_cast<float>(t.height)))
        return false;
    sample_bilinear(t, u, v, s);
    return true;
}

// Blur pass 1 for element i = y * (w + 2r) + X of job j.
CS_HD void blur_rows_at(const BlurJob& j, int i) {
    const int W = j.w + 2 * j.r;
    if (i >= W * j.h) return;
    const int X = i % W, y = i / W;
    uint16_t* dst = j.rows + (static_cast<size_t>(y) * W + X) * 4;
    for (int c = 0; c < 4; ++c)
        dst[c] =
            static_cast<uint16_t>(gaussian_row_sum(j.src, j.w, j.stride, j.r, j.taps, X, y, c));
}

// Blur pass 2 for element i = Y * (w + 2r) + X of job j.
CS_HD void blur_columns_at(const BlurJob& j, int i) {
    const int W = j.w + 2 * j.r, H = j.h + 2 * j.r;
    if (i >= W * H) return;
    const int X = i % W, Y = i / W;
    uint8_t* dst = j.out + (static_cast<size_t>(Y) * W + X) * 4;
    for (int c = 0; c < 4; ++c)
        dst[c] = gaussian_column_sum(j.rows, W * 4, j.h, j.r, j.taps, X, Y, c);
}

// Output pixel (x, y) of one image: background, then each card's shadow and card in painter's
// order, then the global shading and the camera's colour. Per pixel this is the same sequence of
// operations render_cpu applies card by card.
CS_HD void composite_at(const DevImage& im, const DevPass* passes, const float* glare,
                        const ColourTable* colours, int x, int y, uint8_t* rgb_out,
                        uint8_t* ids_out) {
    if (x >= im.width || y >= im.height) return;
    const uint8_t* b = im.bg + static_cast<size_t>(im.crop_y + y) * im.bg_stride +
                       static_cast<size_t>(im.crop_x + x) * 3;
    uint8_t px[3] = {b[0], b[1], b[2]};
    uint8_t id = 0;
    const float xc = static_cast<float>(x) + 0.5f, yc = static_cast<float>(y) + 0.5f;
    for (int k = 0; k < im.passes; ++k) {
        const DevPass& p = passes[im.first_pass + k];
        if (x < p.x0 || x >= p.x1 || y < p.y0 || y >= p.y1) continue;
        const TexView view{p.tex, p.tex_w, p.tex_h, p.tex_stride};
        uint32_t s[4];
        float u, v;
        if (p.shadow_opacity256 && map_and_sample(view, p.shadow_to_texture, xc, yc, s, u, v) &&
            s[3] != 0)
            darken(px, s[3], p.shadow_opacity256);
        if (map_and_sample(view, p.to_texture, xc, yc, s, u, v) && s[3] != 0) {
            blend_over(px, s);
            if (id_covers(u, v, p.pad, static_cast<float>(p.tex_w), static_cast<float>(p.tex_h),
                          s[3]))
                id = static_cast<uint8_t>(k + 1);
        }
    }
    if (im.shade) {
        const bool lit = im.glare_offset >= 0;
        const float gx = lit ? glare[im.glare_offset + x] : 0.0f;
        const float gy = lit ? glare[im.glare_offset + im.width + y] : 0.0f;
        shade_pixel(im.shading, x, y, gx, gy, px);
    }
    if (im.colour >= 0) colour_pixel(colours[im.colour], px);
    uint8_t* o = rgb_out + im.rgb_offset + (static_cast<size_t>(y) * im.width + x) * 3;
    o[0] = px[0], o[1] = px[1], o[2] = px[2];
    ids_out[im.ids_offset + static_cast<size_t>(y) * im.width + x] = id;
}

__global__ void blur_rows_kernel(const BlurJob* jobs, int first_job) {
    blur_rows_at(jobs[first_job + blockIdx.y], blockIdx.x * blockDim.x + threadIdx.x);
}

__global__ void blur_columns_kernel(const BlurJob* jobs, int first_job) {
    blur_columns_at(jobs[first_job + blockIdx.y], blockIdx.x * blockDim.x + threadIdx.x);
}

__global__ void composite_kernel(const DevImage* images, const DevPass* passes, const float* glare,
                                 const ColourTable* colours, uint8_t* rgb_out, uint8_t* ids_out) {
    composite_at(images[blockIdx.z], passes, glare, colours, blockIdx.x * blockDim.x + threadIdx.x,
                 blockIdx.y * blockDim.y + threadIdx.y, rgb_out, ids_out);
}

// Both blur passes of every job, at most kMaxBlurJobsPerLaunch jobs a launch (gridDim.y).
void launch_blurs(const CudaPlan& plan, const BlurJob* jobs, cudaStream_t stream) {
    for (const BlurLaunch& l : plan.blur_launches) {
        const unsigned count = static_cast<unsigned>(l.count);
        blur_rows_kernel<<<dim3(l.rows_blocks, count), kBlurThreads, 0, stream>>>(jobs, l.first);
        CS_CUDA(cudaGetLastError());
        blur_columns_kernel<<<dim3(l.out_blocks, count), kBlurThreads, 0, stream>>>(jobs, l.first);
        CS_CUDA(cudaGetLastError());
    }
}

// One thread per pixel of the largest image; threads outside a smaller image return at once.
void launch_composite(const CudaPlan& plan, const uint8_t* blob, uint8_t* out,
                      cudaStream_t stream) {
    const UploadLayout& u = plan.upload;
    const dim3 block(32, 8);
    const dim3 grid((plan.most_width + block.x - 1) / block.x,
                    (plan.most_height + block.y - 1) / block.y,
                    static_cast<unsigned>(plan.images.size()));
    composite_kernel<<<grid, block, 0, stream>>>(
        reinterpret_cast<const DevImage*>(blob + u.images),
        reinterpret_cast<const DevPass*>(blob + u.passes),
        reinterpret_cast<const float*>(blob + u.glare),
        reinterpret_cast<const ColourTable*>(blob + u.colours), out, out + plan.ids_offset);
    CS_CUDA(cudaGetLastError());
}

// Timed points of a sub-batch on its stream, in order: texture and background uploads between
// the first two, then the plan's upload, the blurs, the composite and the download. Recording
// them only around copies and launches (never while the host plans) keeps host time out of the
// device intervals; seven events a sub-batch cost nothing next to its milliseconds of work.
enum Mark {
    kTexturesBegin,
    kTexturesEnd,
    kBlobBegin,  // after waiting for the other slot's uploads
    kBlobEnd,
    kBlurEnd,
    kCompositeEnd,
    kDownloadEnd,
    kMarks
};

// Everything one sub-batch in flight owns; two of them alternate.
struct Slot {
    cudaStream_t stream = nullptr;
    cudaEvent_t uploaded = nullptr;  // after this slot's texture and background uploads
    cudaEvent_t marks[kMarks] = {};
    PinnedBuffer blob_host, out_host, staging;  // staging: textures on their way to the device
    DeviceBuffer blob, scratch, out;
    SubBatch range;
    CudaPlan plan;

    void create() {
        CS_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        CS_CUDA(cudaEventCreateWithFlags(&uploaded, cudaEventDisableTiming));
        for (cudaEvent_t& e : marks) CS_CUDA(cudaEventCreate(&e));
        // Recorded once so that the first wait on the other slot's uploads is valid.
        CS_CUDA(cudaEventRecord(uploaded, stream));
    }
    void mark(Mark m) { CS_CUDA(cudaEventRecord(marks[m], stream)); }
    // Milliseconds between two marks of the sub-batch the stream has finished.
    double between(Mark a, Mark b) const {
        float ms = 0;
        CS_CUDA(cudaEventElapsedTime(&ms, marks[a], marks[b]));
        return ms;
    }
    // Teardown cannot report a failure; the buffers are freed after the stream is idle.
    ~Slot() {
        if (stream) (void)cudaStreamSynchronize(stream);
        for (cudaEvent_t e : marks)
            if (e) (void)cudaEventDestroy(e);
        if (uploaded) (void)cudaEventDestroy(uploaded);
        if (stream) (void)cudaStreamDestroy(stream);
    }
};

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The device to render on, its context created now. With no driver or no device this throws,
// and make_renderer(Auto) falls back to the CPU. Returns the renderer's name.
std::string select_device(int gpu) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaSuccess && (gpu < 0 || gpu >= count)) {
        throw Error("--device cuda: no usable GPU (device " + std::to_string(gpu) + " of " +
                    std::to_string(count) + ")");
    }
    if (err == cudaSuccess) err = cudaSetDevice(gpu);
    if (err == cudaSuccess) err = cudaFree(nullptr);  // creates the context now
    cudaDeviceProp prop{};
    if (err == cudaSuccess) err = cudaGetDeviceProperties(&prop, gpu);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        throw Error(std::string("--device cuda: no usable GPU (") + cudaGetErrorString(err) + ")");
    }
    return "cuda:" + std::to_string(gpu) + " (" + prop.name + ")";
}

class CudaRenderer : public Renderer {
  public:
    explicit CudaRenderer(const RenderInputs& in)
        : in_(in),
          cache_(make_texture_cache(in)),
          name_(select_device(in.gpu)),
          textures_(in.cache_bytes),
          backgrounds_(*in.backgrounds) {
        for (Slot& s : slots_) s.create();
    }

    ~CudaRenderer() override {
        // Nothing may still run when the members free its memory.
        for (Slot& s : slots_)
            if (s.stream) (void)cudaStreamSynchronize(s.stream);
    }

    std::string name() const override { return name_; }

    RenderTimings timings() const override { return timings_; }
    void reset_timings() override { timings_ = {}; }

    void render(const std::vector<SceneSpec>& scenes, std::vector<Frame>& frames) override {
        const Clock::time_point start = Clock::now();
        frames.resize(scenes.size());
        try {
            Slot* previous = nullptr;
            for (const SubBatch& range : split_sub_batches(scenes)) {
                Slot& slot = slots_[sub_batch_ % 2];
                enqueue(slot, scenes, range);
                ++sub_batch_;
                if (previous) finish(*previous, scenes, frames);
                previous = &slot;
            }
            if (previous) finish(*previous, scenes, frames);
        } catch (...) {
            // Leave no work in flight on buffers the next call reuses.
            for (Slot& s : slots_)
                if (s.stream) (void)cudaStreamSynchronize(s.stream);
            (void)cudaGetLastError();
            throw;
        }
        ++timings_.calls;
        timings_.images += static_cast<int64_t>(scenes.size());
        timings_.wall_ms += ms_since(start);
    }

  private:
    PlanInputs plan_inputs() const {
        PlanInputs p;
        p.level_for_height = [this](double h) { return cache_->level_for_height(h); };
        p.texture_shape = [this](int64_t key) { return textures_.shape(key); };
        p.background_size = [this](int b, int l) { return in_.backgrounds->level(b, l).size(); };
        return p;
    }

    // A texture on its way to the device: its bytes at `offset` in the slot's staging buffer.
    struct StagedTexture {
        int64_t key;
        TextureShape shape;
        size_t offset;
    };

    // The sub-batch's textures that are not on the device, taken from the host cache (where a
    // miss decodes and scales a card image, the slow part) and copied into the slot's
    // page-locked staging buffer, both in parallel. From pageable memory a copy would block the
    // host until it is done; from the staging buffer it runs behind planning and the other slot.
    std::vector<StagedTexture> stage_textures(Slot& slot, const std::vector<SceneSpec>& scenes,
                                              SubBatch range) {
        std::vector<StagedTexture> staged;
        const auto level = [this](double h) { return cache_->level_for_height(h); };
        for (int64_t key : sub_batch_textures(scenes, range, level))
            if (!textures_.touch(key)) staged.push_back({key, {}, 0});
        if (staged.empty()) return staged;
        const int n = static_cast<int>(staged.size());
        const int threads = std::max(1, std::min(in_.threads, n));
        std::vector<TexturePtr> host(staged.size());
        parallel_for(n, threads, [&](int k) {
            host[k] =
                cache_->get(texture_key_card(staged[k].key), texture_key_level(staged[k].key));
        });
        size_t bytes = 0;
        for (size_t k = 0; k < staged.size(); ++k) {
            const cv::Mat& rgba = host[k]->rgba;
            staged[k].shape = {rgba.cols, rgba.rows, host[k]->inner_width, host[k]->inner_height};
            staged[k].offset = bytes;
            bytes += align_device(static_cast<size_t>(rgba.cols) * 4 * rgba.rows);
        }
        slot.staging.grow(bytes);
        parallel_for(n, threads, [&](int k) {
            const cv::Mat& rgba = host[k]->rgba;
            const size_t row = static_cast<size_t>(rgba.cols) * 4;
            uint8_t* dst = slot.staging.bytes() + staged[k].offset;
            for (int y = 0; y < rgba.rows; ++y) std::memcpy(dst + y * row, rgba.ptr(y), row);
        });
        return staged;
    }

    // Plans the sub-batch and queues its uploads, kernels and download on the slot's stream. The
    // slot's previous sub-batch has been finished.
    void enqueue(Slot& slot, const std::vector<SceneSpec>& scenes, SubBatch range) {
        slot.range = range;
        textures_.begin_sub_batch(sub_batch_);
        Clock::time_point t = Clock::now();
        const std::vector<StagedTexture> staged = stage_textures(slot, scenes, range);
        timings_.texture_ms += ms_since(t);

        t = Clock::now();
        slot.mark(kTexturesBegin);
        for (const StagedTexture& st : staged)
            textures_.upload(st.key, st.shape, slot.staging.bytes() + st.offset, slot.stream);
        // Backgrounds new to the device now, so that binding addresses below copies nothing.
        for (size_t i = range.begin; i < range.end; ++i)
            backgrounds_.get(scenes[i].background, scenes[i].background_level, slot.stream);
        slot.mark(kTexturesEnd);
        timings_.enqueue_ms += ms_since(t);

        t = Clock::now();
        CudaPlan& plan = slot.plan;
        plan = plan_sub_batch(scenes, range, plan_inputs());
        slot.blob.grow(plan.upload.bytes);
        slot.blob_host.grow(plan.upload.bytes);
        slot.scratch.grow(plan.scratch_bytes);
        slot.out.grow(plan.out_bytes);
        slot.out_host.grow(plan.out_bytes);

        DeviceAddresses at;
        at.blob = slot.blob.bytes();
        at.scratch = slot.scratch.bytes();
        at.texture = [this](int64_t key) { return textures_.data(key); };
        at.background = [&](int b, int l) { return backgrounds_.get(b, l, slot.stream); };
        bind_device_addresses(plan, at);
        write_upload(plan, slot.blob_host.bytes());
        timings_.plan_ms += ms_since(t);

        t = Clock::now();
        // Textures uploaded for the other slot's sub-batch may be sampled here too.
        Slot& other = slots_[(&slot - slots_) ^ 1];
        CS_CUDA(cudaEventRecord(slot.uploaded, slot.stream));
        CS_CUDA(cudaStreamWaitEvent(slot.stream, other.uploaded, 0));
        slot.mark(kBlobBegin);
        CS_CUDA(cudaMemcpyAsync(slot.blob.bytes(), slot.blob_host.bytes(), plan.upload.bytes,
                                cudaMemcpyHostToDevice, slot.stream));
        slot.mark(kBlobEnd);
        launch_blurs(plan, reinterpret_cast<const BlurJob*>(slot.blob.bytes() + plan.upload.jobs),
                     slot.stream);
        slot.mark(kBlurEnd);
        launch_composite(plan, slot.blob.bytes(), slot.out.bytes(), slot.stream);
        slot.mark(kCompositeEnd);
        CS_CUDA(cudaMemcpyAsync(slot.out_host.bytes(), slot.out.bytes(), plan.out_bytes,
                                cudaMemcpyDeviceToHost, slot.stream));
        slot.mark(kDownloadEnd);
        timings_.enqueue_ms += ms_since(t);
        ++timings_.sub_batches;
    }

    // Waits for the slot's sub-batch and copies its pixels and ids into the frames, in bands of
    // rows on all threads: one thread copies a few GB/s, less than the device delivers.
    void finish(Slot& slot, const std::vector<SceneSpec>& scenes, std::vector<Frame>& frames) {
        Clock::time_point t = Clock::now();
        CS_CUDA(cudaStreamSynchronize(slot.stream));
        timings_.wait_ms += ms_since(t);
        timings_.upload_ms +=
            slot.between(kTexturesBegin, kTexturesEnd) + slot.between(kBlobBegin, kBlobEnd);
        timings_.blur_ms += slot.between(kBlobEnd, kBlurEnd);
        timings_.composite_ms += slot.between(kBlurEnd, kCompositeEnd);
        timings_.download_ms += slot.between(kCompositeEnd, kDownloadEnd);

        t = Clock::now();
        constexpr int kBandRows = 64;
        std::vector<std::pair<size_t, int>> bands;  // (scene, first row)
        for (size_t i = slot.range.begin; i < slot.range.end; ++i) {
            const SceneSpec& scene = scenes[i];
            frames[i].rgb.create(scene.height, scene.width, CV_8UC3);
            frames[i].ids.create(scene.height, scene.width, CV_8UC1);
            for (int y = 0; y < scene.height; y += kBandRows) bands.emplace_back(i, y);
        }
        const uint8_t* rgb = slot.out_host.bytes();
        const uint8_t* ids = rgb + slot.plan.ids_offset;
        parallel_for(static_cast<int>(bands.size()), in_.threads, [&](int b) {
            const size_t i = bands[b].first;
            const DevImage& im = slot.plan.images[i - slot.range.begin].record;
            Frame& f = frames[i];
            const size_t row3 = static_cast<size_t>(im.width) * 3, row1 = im.width;
            const int y1 = std::min(im.height, bands[b].second + kBandRows);
            for (int y = bands[b].second; y < y1; ++y) {
                std::memcpy(f.rgb.ptr<uint8_t>(y), rgb + im.rgb_offset + y * row3, row3);
                std::memcpy(f.ids.ptr<uint8_t>(y), ids + im.ids_offset + y * row1, row1);
            }
        });
        timings_.copy_out_ms += ms_since(t);
    }

    RenderInputs in_;
    std::unique_ptr<TextureCache> cache_;  // the CPU's textures, byte for byte
    std::string name_;
    // Declared before the slots, so destroyed after them: a slot's destructor waits for its
    // stream before any texture it samples is freed.
    DeviceTextureCache textures_;
    DeviceBackgrounds backgrounds_;
    Slot slots_[2];
    uint64_t sub_batch_ = 2;  // starts above 1 so that "stamp + 1 < sub_batch_" means idle
    RenderTimings timings_;
};

}  // namespace

std::unique_ptr<Renderer> make_cuda_renderer(const RenderInputs& inputs) {
    // What only the CPU backend draws. Checked before any device is touched, so that the refusal
    // is the same with or without a GPU, and --device auto renders such a configuration on the
    // CPU.
    struct CpuOnly {
        const char* key;
        Range (*value)(const Config&);
    };
    static const CpuOnly kCpuOnly[] = {
        {"scene.camera.motion_blur", [](const Config& c) { return c.scene.camera.motion_blur; }},
        {"scene.camera.lens_distortion",
         [](const Config& c) { return c.scene.camera.lens_distortion; }},
        {"scene.occluders", [](const Config& c) { return c.scene.occluders; }},
    };
    for (const CpuOnly& k : kCpuOnly) {
        const Range r = k.value(*inputs.config);
        if (r.lo != 0.0 || r.hi != 0.0)
            throw ConfigError(
                format("--device cuda: %s [%g, %g] is drawn by the CPU backend "
                       "only; use --device cpu or [0, 0]",
                       k.key, r.lo, r.hi));
    }
    return std::make_unique<CudaRenderer>(inputs);
}

}  // namespace cardsynth
