// The CUDA backend: the CPU backend's drawing moved to the GPU pixel by pixel. The host plans
// every card (plan_card_pass) and takes its texture from the same TextureCache as the CPU, so
// the GPU samples the same bytes through the same mapping; one kernel thread per output pixel
// paints its background, walks its image's cards in painter's order and shades. Batches are cut
// into sub-batches on two streams so that one uploads and renders while the last downloads.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <list>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "render/kernels/card_pass.h"
#include "render/kernels/gaussian_fixed.h"
#include "render/render.h"
#include "render/texture_cache.h"

// shading.h hashes with rng.h's constexpr splitmix64 on the device: CMake passes
// --expt-relaxed-constexpr for this file.
#include "render/kernels/shading.h"

namespace cardsynth {
namespace {

void check_cuda(cudaError_t err, const char* call) {
    if (err != cudaSuccess)
        throw Error(std::string("CUDA: ") + call + " failed: " + cudaGetErrorString(err));
}
#define CS_CUDA(call) check_cuda((call), #call)

// One card's draw as the kernel reads it: CardPass plus the texture it samples.
struct DevPass {
    Mat3 to_texture, shadow_to_texture;
    const uint8_t* tex;
    int tex_w, tex_h, tex_stride;
    float pad;  // transparent border as drawn (CardPass::pad), for id_covers
    int x0, y0, x1, y1;
    uint32_t shadow_opacity256;
};

struct DevImage {
    ShadingParams shading;
    const uint8_t* bg;  // background level, RGB8
    size_t bg_stride;
    int crop_x, crop_y, width, height;
    int first_pass, passes;
    size_t rgb_offset, ids_offset;  // into the sub-batch's output buffers
    int glare_offset;               // gx[width] then gy[height] in the glare table; -1 = none
    int shade;
};

// One card blurred into scratch memory: source w x h, output (w + 2r) x (h + 2r).
struct BlurJob {
    const uint8_t* src;
    const uint16_t* taps;
    uint16_t* rows;  // pass 1: (w + 2r) x h x 4
    uint8_t* out;    // pass 2: (w + 2r) x (h + 2r) x 4, tight rows
    int w, h, stride, r;
};

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
// order, then the global shading. Per pixel this is the same sequence of operations render_cpu
// applies card by card.
CS_HD void composite_at(const DevImage& im, const DevPass* passes, const float* glare, int x, int y,
                        uint8_t* rgb_out, uint8_t* ids_out) {
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
        const float g = im.glare_offset >= 0
                            ? glare[im.glare_offset + x] * glare[im.glare_offset + im.width + y]
                            : 0.0f;
        shade_pixel(im.shading, x, y, g, px);
    }
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
                                 uint8_t* rgb_out, uint8_t* ids_out) {
    composite_at(images[blockIdx.z], passes, glare, blockIdx.x * blockDim.x + threadIdx.x,
                 blockIdx.y * blockDim.y + threadIdx.y, rgb_out, ids_out);
}

size_t align_up(size_t n) {
    return (n + 255) & ~static_cast<size_t>(255);
}

// A device buffer that only grows; growing happens while its stream is idle.
struct DeviceBuffer {
    void* ptr = nullptr;
    size_t size = 0;
    void reserve(size_t n) {
        if (n <= size) return;
        if (ptr) CS_CUDA(cudaFree(ptr));
        ptr = nullptr, size = 0;
        CS_CUDA(cudaMalloc(&ptr, n));
        size = n;
    }
    void release() noexcept {
        if (ptr) cudaFree(ptr);
        ptr = nullptr, size = 0;
    }
    uint8_t* bytes() const { return static_cast<uint8_t*>(ptr); }
};

struct PinnedBuffer {
    void* ptr = nullptr;
    size_t size = 0;
    void reserve(size_t n) {
        if (n <= size) return;
        if (ptr) CS_CUDA(cudaFreeHost(ptr));
        ptr = nullptr, size = 0;
        CS_CUDA(cudaHostAlloc(&ptr, n, cudaHostAllocDefault));
        size = n;
    }
    void release() noexcept {
        if (ptr) cudaFreeHost(ptr);
        ptr = nullptr, size = 0;
    }
    uint8_t* bytes() const { return static_cast<uint8_t*>(ptr); }
};

// Everything one sub-batch in flight owns; two of them alternate.
struct Slot {
    cudaStream_t stream = nullptr;
    cudaEvent_t uploaded = nullptr;  // after this slot's texture and background uploads
    PinnedBuffer blob_host, out_host;
    DeviceBuffer blob, scratch, out;
    size_t begin = 0, end = 0;  // scenes of the sub-batch
    std::vector<DevImage> images;
};

class CudaRenderer : public Renderer {
  public:
    explicit CudaRenderer(const RenderInputs& in) : in_(in), cache_(make_texture_cache(in)) {
        // With no driver or no device these fail, and make_renderer(Auto) falls back to the CPU.
        int count = 0;
        cudaError_t err = cudaGetDeviceCount(&count);
        if (err == cudaSuccess && (in.gpu < 0 || in.gpu >= count)) {
            throw Error("--device cuda: no usable GPU (device " + std::to_string(in.gpu) + " of " +
                        std::to_string(count) + ")");
        }
        if (err == cudaSuccess) err = cudaSetDevice(in.gpu);
        if (err == cudaSuccess) err = cudaFree(nullptr);  // creates the context now
        cudaDeviceProp prop{};
        if (err == cudaSuccess) err = cudaGetDeviceProperties(&prop, in.gpu);
        if (err != cudaSuccess) {
            cudaGetLastError();
            throw Error(std::string("--device cuda: no usable GPU (") + cudaGetErrorString(err) +
                        ")");
        }
        name_ = "cuda:" + std::to_string(in.gpu) + " (" + prop.name + ")";
        try {
            for (Slot& s : slots_) {
                CS_CUDA(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
                CS_CUDA(cudaEventCreateWithFlags(&s.uploaded, cudaEventDisableTiming));
                // Recorded once so that the first wait on the other slot's uploads is valid.
                CS_CUDA(cudaEventRecord(s.uploaded, s.stream));
            }
        } catch (...) {
            release_all();
            throw;
        }
    }

    ~CudaRenderer() override { release_all(); }

    std::string name() const override { return name_; }

    void render(const std::vector<SceneSpec>& scenes, std::vector<Frame>& frames) override {
        frames.resize(scenes.size());
        try {
            Slot* previous = nullptr;
            size_t begin = 0;
            while (begin < scenes.size()) {
                Slot& slot = slots_[sub_batch_ % 2];
                const size_t end = sub_batch_end(scenes, begin);
                enqueue(slot, scenes, begin, end);
                ++sub_batch_;
                if (previous) finish(*previous, scenes, frames);
                previous = &slot;
                begin = end;
            }
            if (previous) finish(*previous, scenes, frames);
        } catch (...) {
            // Leave no work in flight on buffers the next call reuses.
            for (Slot& s : slots_)
                if (s.stream) cudaStreamSynchronize(s.stream);
            cudaGetLastError();
            throw;
        }
    }

  private:
    struct DevTexture {
        uint8_t* data = nullptr;
        int width = 0, height = 0;
        size_t bytes = 0;
        uint64_t stamp = 0;  // the last sub-batch that samples it
        std::list<int64_t>::iterator pos;
    };
    struct DevBackground {
        uint8_t* data = nullptr;
        size_t stride = 0;
        int width = 0, height = 0;
    };

    // Sub-batches of about kTargetPixels keep both streams busy without large buffers.
    static constexpr size_t kTargetPixels = size_t{1} << 22;
    static constexpr size_t kMaxImages = 64;

    static size_t sub_batch_end(const std::vector<SceneSpec>& scenes, size_t begin) {
        size_t pixels = 0, end = begin;
        while (end < scenes.size() && end - begin < kMaxImages) {
            pixels += static_cast<size_t>(scenes[end].width) * scenes[end].height;
            ++end;
            if (pixels >= kTargetPixels) break;
        }
        return end;
    }

    static int64_t texture_key(int32_t id, int level) {
        return (static_cast<int64_t>(id) << 8) | static_cast<int64_t>(level);
    }

    // Host textures for every (id, level) of the sub-batch not yet on the device, decoded in
    // parallel: a miss in the host cache decodes and scales a card image, the slow part here.
    std::unordered_map<int64_t, TexturePtr> fetch_missing(const std::vector<SceneSpec>& scenes,
                                                          size_t begin, size_t end) {
        std::vector<int64_t> keys;
        for (size_t i = begin; i < end; ++i)
            for (const CardPlacement& card : scenes[i].cards) {
                const int64_t key =
                    texture_key(card.card_id, cache_->level_for_height(card.height));
                auto it = textures_.find(key);
                if (it == textures_.end()) {
                    keys.push_back(key);
                } else {  // keep it from eviction while this sub-batch uploads others
                    it->second.stamp = sub_batch_;
                    lru_.splice(lru_.begin(), lru_, it->second.pos);
                }
            }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        std::vector<TexturePtr> got(keys.size());
        std::vector<std::string> errors(keys.size());
        auto work = [&](size_t first, size_t step) {
            for (size_t k = first; k < keys.size(); k += step) {
                try {
                    got[k] = cache_->get(static_cast<int32_t>(keys[k] >> 8),
                                         static_cast<int>(keys[k] & 255));
                } catch (const std::exception& e) {
                    errors[k] = e.what();
                }
            }
        };
        const size_t threads = std::min<size_t>(std::max(1, in_.threads), keys.size());
        if (threads <= 1) {
            work(0, 1);
        } else {
            std::vector<std::thread> pool;
            for (size_t t = 0; t < threads; ++t) pool.emplace_back(work, t, threads);
            for (std::thread& t : pool) t.join();
        }
        for (const std::string& e : errors)
            if (!e.empty()) throw Error(e);
        std::unordered_map<int64_t, TexturePtr> out;
        for (size_t k = 0; k < keys.size(); ++k) out.emplace(keys[k], got[k]);
        return out;
    }

    // The device copy of a card texture, uploaded on `stream` on first use; least recently used
    // textures beyond the budget are freed, except those a sub-batch in flight may still read.
    const DevTexture& device_texture(int64_t key, const TexturePtr& host, cudaStream_t stream) {
        auto it = textures_.find(key);
        if (it != textures_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.pos);
            it->second.stamp = sub_batch_;
            return it->second;
        }
        const cv::Mat& rgba = host->rgba;
        const size_t bytes = static_cast<size_t>(rgba.cols) * rgba.rows * 4;
        while (device_bytes_ + bytes > in_.cache_bytes && !lru_.empty()) {
            auto victim = textures_.find(lru_.back());
            if (victim->second.stamp + 1 >= sub_batch_) break;  // in flight: over budget for now
            cudaFree(victim->second.data);
            device_bytes_ -= victim->second.bytes;
            textures_.erase(victim);
            lru_.pop_back();
        }
        DevTexture t;
        CS_CUDA(cudaMalloc(reinterpret_cast<void**>(&t.data), bytes));
        t.width = rgba.cols, t.height = rgba.rows, t.bytes = bytes, t.stamp = sub_batch_;
        const cudaError_t err =
            cudaMemcpy2DAsync(t.data, rgba.cols * 4, rgba.data, rgba.step[0], rgba.cols * 4,
                              rgba.rows, cudaMemcpyHostToDevice, stream);
        if (err != cudaSuccess) {
            cudaFree(t.data);
            check_cuda(err, "cudaMemcpy2DAsync(texture)");
        }
        lru_.push_front(key);
        t.pos = lru_.begin();
        device_bytes_ += bytes;
        return textures_.emplace(key, t).first->second;
    }

    const DevBackground& device_background(int b, int l, cudaStream_t stream) {
        const int64_t key = static_cast<int64_t>(b) * kBackgroundLevels + l;
        auto it = backgrounds_.find(key);
        if (it != backgrounds_.end()) return it->second;
        const cv::Mat& bg = in_.backgrounds->level(b, l);
        DevBackground d;
        d.stride = static_cast<size_t>(bg.cols) * 3;
        d.width = bg.cols, d.height = bg.rows;
        CS_CUDA(cudaMalloc(reinterpret_cast<void**>(&d.data), d.stride * bg.rows));
        const cudaError_t err = cudaMemcpy2DAsync(d.data, d.stride, bg.data, bg.step[0], d.stride,
                                                  bg.rows, cudaMemcpyHostToDevice, stream);
        if (err != cudaSuccess) {
            cudaFree(d.data);
            check_cuda(err, "cudaMemcpy2DAsync(background)");
        }
        return backgrounds_.emplace(key, d).first->second;
    }

    // Plans the sub-batch on the host and queues its uploads, kernels and download on the slot's
    // stream. The slot's previous sub-batch has been finished.
    void enqueue(Slot& slot, const std::vector<SceneSpec>& scenes, size_t begin, size_t end) {
        slot.begin = begin, slot.end = end;
        const auto fetched = fetch_missing(scenes, begin, end);

        std::vector<DevImage>& images = slot.images;
        images.clear();
        std::vector<DevPass> passes;
        std::vector<int> pass_blur;  // blur job of each pass, -1 = none
        std::vector<BlurJob> jobs;
        std::vector<size_t> job_rows, job_out;  // scratch offsets
        std::vector<size_t> job_taps;           // taps offsets (in uint16)
        std::vector<uint16_t> taps;
        std::vector<float> glare;
        size_t scratch_bytes = 0, rgb_bytes = 0, ids_bytes = 0;

        for (size_t i = begin; i < end; ++i) {
            const SceneSpec& scene = scenes[i];
            const int W = scene.width, H = scene.height;
            const cv::Mat& bg_host =
                in_.backgrounds->level(scene.background, scene.background_level);
            if (scene.crop_x < 0 || scene.crop_y < 0 || scene.crop_x + W > bg_host.cols ||
                scene.crop_y + H > bg_host.rows)
                throw Error("render: image " + std::to_string(scene.index) +
                            " crops outside background " + std::to_string(scene.background));
            const DevBackground& bg =
                device_background(scene.background, scene.background_level, slot.stream);
            DevImage im{};
            im.bg = bg.data, im.bg_stride = bg.stride;
            im.crop_x = scene.crop_x, im.crop_y = scene.crop_y, im.width = W, im.height = H;
            im.first_pass = static_cast<int>(passes.size());
            im.passes = static_cast<int>(scene.cards.size());
            im.rgb_offset = rgb_bytes, im.ids_offset = ids_bytes;
            rgb_bytes += static_cast<size_t>(W) * H * 3;
            ids_bytes += static_cast<size_t>(W) * H;

            for (const CardPlacement& card : scene.cards) {
                const int level = cache_->level_for_height(card.height);
                const int64_t key = texture_key(card.card_id, level);
                auto host = fetched.find(key);
                const DevTexture* dt;
                int inner_w, inner_h;
                if (host != fetched.end()) {
                    dt = &device_texture(key, host->second, slot.stream);
                    inner_w = host->second->inner_width, inner_h = host->second->inner_height;
                } else {
                    dt = &device_texture(key, nullptr, slot.stream);
                    inner_w = dt->width - 2 * kTexturePad, inner_h = dt->height - 2 * kTexturePad;
                }
                const CardPass pass =
                    plan_card_pass(card, inner_w, inner_h, kTexturePad, scene.effects, W, H);
                DevPass p{};
                p.to_texture = pass.to_texture;
                p.shadow_to_texture = pass.shadow_to_texture;
                p.x0 = pass.x0, p.y0 = pass.y0, p.x1 = pass.x1, p.y1 = pass.y1;
                p.shadow_opacity256 = pass.shadow_opacity256;
                p.pad = static_cast<float>(pass.pad);
                p.tex = dt->data, p.tex_w = dt->width, p.tex_h = dt->height;
                p.tex_stride = dt->width * 4;
                int blur = -1;
                if (pass.blur_radius > 0 && pass.x0 < pass.x1 && pass.y0 < pass.y1) {
                    const int r = pass.blur_radius;
                    BlurJob j{};
                    j.src = dt->data, j.w = dt->width, j.h = dt->height, j.stride = dt->width * 4;
                    j.r = r;
                    const size_t ow = static_cast<size_t>(dt->width) + 2 * r;
                    const size_t oh = static_cast<size_t>(dt->height) + 2 * r;
                    job_rows.push_back(scratch_bytes);
                    scratch_bytes += align_up(ow * dt->height * 4 * sizeof(uint16_t));
                    job_out.push_back(scratch_bytes);
                    scratch_bytes += align_up(ow * oh * 4);
                    job_taps.push_back(taps.size());
                    const std::vector<uint16_t> k = gaussian_taps_q8(2 * r + 1, pass.blur_sigma);
                    taps.insert(taps.end(), k.begin(), k.end());
                    blur = static_cast<int>(jobs.size());
                    jobs.push_back(j);
                    p.tex_w = static_cast<int>(ow), p.tex_h = static_cast<int>(oh);
                    p.tex_stride = static_cast<int>(ow) * 4;
                }
                passes.push_back(p);
                pass_blur.push_back(blur);
            }

            // The shading parameters and glare tables exactly as render_cpu makes them.
            im.shading = shading_params(scene);
            im.shade = shading_active(im.shading) ? 1 : 0;
            im.glare_offset = -1;
            if (im.shade && im.shading.glare_strength > 0) {
                im.glare_offset = static_cast<int>(glare.size());
                const ShadingParams& p = im.shading;
                append_glare_profile(p.glare_x, p.glare_inv_r2, W, glare);
                append_glare_profile(p.glare_y, p.glare_inv_r2, H, glare);
            }
            images.push_back(im);
        }

        // Lay out the upload blob: images, passes, jobs, taps, glare.
        size_t off = 0;
        const size_t images_off = off;
        off = align_up(off + images.size() * sizeof(DevImage));
        const size_t passes_off = off;
        off = align_up(off + passes.size() * sizeof(DevPass));
        const size_t jobs_off = off;
        off = align_up(off + jobs.size() * sizeof(BlurJob));
        const size_t taps_off = off;
        off = align_up(off + taps.size() * sizeof(uint16_t));
        const size_t glare_off = off;
        off = align_up(off + glare.size() * sizeof(float));
        const size_t blob_bytes = std::max<size_t>(off, 256);

        slot.blob.reserve(blob_bytes);
        slot.blob_host.reserve(blob_bytes);
        slot.scratch.reserve(std::max<size_t>(scratch_bytes, 256));
        slot.out.reserve(align_up(rgb_bytes) + ids_bytes);
        slot.out_host.reserve(align_up(rgb_bytes) + ids_bytes);

        uint8_t* dev = slot.blob.bytes();
        for (size_t j = 0; j < jobs.size(); ++j) {
            jobs[j].taps = reinterpret_cast<const uint16_t*>(dev + taps_off) + job_taps[j];
            jobs[j].rows = reinterpret_cast<uint16_t*>(slot.scratch.bytes() + job_rows[j]);
            jobs[j].out = slot.scratch.bytes() + job_out[j];
        }
        for (size_t k = 0; k < passes.size(); ++k)
            if (pass_blur[k] >= 0) passes[k].tex = jobs[pass_blur[k]].out;

        uint8_t* host = slot.blob_host.bytes();
        auto put = [host](size_t offset, const void* data, size_t bytes) {
            if (bytes) std::memcpy(host + offset, data, bytes);
        };
        put(images_off, images.data(), images.size() * sizeof(DevImage));
        put(passes_off, passes.data(), passes.size() * sizeof(DevPass));
        put(jobs_off, jobs.data(), jobs.size() * sizeof(BlurJob));
        put(taps_off, taps.data(), taps.size() * sizeof(uint16_t));
        put(glare_off, glare.data(), glare.size() * sizeof(float));

        // Textures uploaded for the other slot's sub-batch may be sampled here too.
        Slot& other = slots_[(&slot - slots_) ^ 1];
        CS_CUDA(cudaEventRecord(slot.uploaded, slot.stream));
        CS_CUDA(cudaStreamWaitEvent(slot.stream, other.uploaded, 0));
        CS_CUDA(cudaMemcpyAsync(dev, host, blob_bytes, cudaMemcpyHostToDevice, slot.stream));

        const BlurJob* dev_jobs = reinterpret_cast<const BlurJob*>(dev + jobs_off);
        constexpr int kBlurThreads = 256;
        constexpr int kMaxGridY = 65535;
        for (size_t first = 0; first < jobs.size(); first += kMaxGridY) {
            const size_t count = std::min<size_t>(kMaxGridY, jobs.size() - first);
            size_t most_rows = 0, most_out = 0;
            for (size_t j = first; j < first + count; ++j) {
                const size_t ow = static_cast<size_t>(jobs[j].w) + 2 * jobs[j].r;
                most_rows = std::max(most_rows, ow * jobs[j].h);
                most_out = std::max(most_out, ow * (jobs[j].h + 2 * jobs[j].r));
            }
            const dim3 rows_grid(
                static_cast<unsigned>((most_rows + kBlurThreads - 1) / kBlurThreads),
                static_cast<unsigned>(count));
            blur_rows_kernel<<<rows_grid, kBlurThreads, 0, slot.stream>>>(dev_jobs,
                                                                          static_cast<int>(first));
            CS_CUDA(cudaGetLastError());
            const dim3 out_grid(static_cast<unsigned>((most_out + kBlurThreads - 1) / kBlurThreads),
                                static_cast<unsigned>(count));
            blur_columns_kernel<<<out_grid, kBlurThreads, 0, slot.stream>>>(
                dev_jobs, static_cast<int>(first));
            CS_CUDA(cudaGetLastError());
        }

        int most_w = 1, most_h = 1;
        for (const DevImage& im : images)
            most_w = std::max(most_w, im.width), most_h = std::max(most_h, im.height);
        const dim3 block(32, 8);
        const dim3 grid((most_w + block.x - 1) / block.x, (most_h + block.y - 1) / block.y,
                        static_cast<unsigned>(images.size()));
        uint8_t* rgb_dev = slot.out.bytes();
        uint8_t* ids_dev = rgb_dev + align_up(rgb_bytes);
        composite_kernel<<<grid, block, 0, slot.stream>>>(
            reinterpret_cast<const DevImage*>(dev + images_off),
            reinterpret_cast<const DevPass*>(dev + passes_off),
            reinterpret_cast<const float*>(dev + glare_off), rgb_dev, ids_dev);
        CS_CUDA(cudaGetLastError());
        CS_CUDA(cudaMemcpyAsync(slot.out_host.bytes(), rgb_dev, align_up(rgb_bytes) + ids_bytes,
                                cudaMemcpyDeviceToHost, slot.stream));
    }

    // Waits for the slot's sub-batch and copies its pixels and ids into the frames.
    void finish(Slot& slot, const std::vector<SceneSpec>& scenes, std::vector<Frame>& frames) {
        CS_CUDA(cudaStreamSynchronize(slot.stream));
        size_t rgb_total = 0;
        for (const DevImage& im : slot.images)
            rgb_total += static_cast<size_t>(im.width) * im.height * 3;
        const uint8_t* rgb = slot.out_host.bytes();
        const uint8_t* ids = rgb + align_up(rgb_total);
        for (size_t i = slot.begin; i < slot.end; ++i) {
            const DevImage& im = slot.images[i - slot.begin];
            const SceneSpec& scene = scenes[i];
            Frame& f = frames[i];
            f.rgb.create(scene.height, scene.width, CV_8UC3);
            f.ids.create(scene.height, scene.width, CV_8UC1);
            const size_t row3 = static_cast<size_t>(im.width) * 3, row1 = im.width;
            for (int y = 0; y < im.height; ++y) {
                std::memcpy(f.rgb.ptr<uint8_t>(y), rgb + im.rgb_offset + y * row3, row3);
                std::memcpy(f.ids.ptr<uint8_t>(y), ids + im.ids_offset + y * row1, row1);
            }
        }
    }

    void release_all() noexcept {
        for (Slot& s : slots_)
            if (s.stream) cudaStreamSynchronize(s.stream);
        for (auto& t : textures_) cudaFree(t.second.data);
        textures_.clear();
        lru_.clear();
        for (auto& b : backgrounds_) cudaFree(b.second.data);
        backgrounds_.clear();
        for (Slot& s : slots_) {
            s.blob.release(), s.scratch.release(), s.out.release();
            s.blob_host.release(), s.out_host.release();
            if (s.uploaded) cudaEventDestroy(s.uploaded);
            if (s.stream) cudaStreamDestroy(s.stream);
            s.uploaded = nullptr, s.stream = nullptr;
        }
        cudaGetLastError();
    }

    RenderInputs in_;
    std::unique_ptr<TextureCache> cache_;  // the CPU's textures, byte for byte
    std::string name_;
    Slot slots_[2];
    uint64_t sub_batch_ = 2;  // stamps start above 1 so that "stamp + 1 < sub_batch_" means idle
    std::unordered_map<int64_t, DevTexture> textures_;
    std::list<int64_t> lru_;  // most recent first
    size_t device_bytes_ = 0;
    std::unordered_map<int64_t, DevBackground> backgrounds_;
};

}  // namespace

std::unique_ptr<Renderer> make_cuda_renderer(const RenderInputs& inputs) {
    return std::make_unique<CudaRenderer>(inputs);
}

}  // namespace cardsynth
