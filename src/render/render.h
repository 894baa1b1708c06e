// Rendering is a backend: one interface, a CPU implementation (render_cpu.cpp) and a CUDA one
// (render_cuda.cu) side by side, picked by make_renderer(). Callers never test for CUDA.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "catalog/catalog.h"
#include "config/config.h"
#include "scene/background.h"
#include "scene/scene.h"

namespace cardsynth {

// One rendered image: RGB8 pixels (R, G, B) and the id buffer (0 = background, k + 1 = card
// slot k), both height x width.
struct Frame {
    cv::Mat rgb;
    cv::Mat ids;
};

// What a renderer reads; it must outlive the renderer.
struct RenderInputs {
    const Config* config = nullptr;
    const Catalog* catalog = nullptr;
    const Backgrounds* backgrounds = nullptr;
    int threads = 1;                  // OpenMP threads for the CPU backend
    int gpu = 0;                      // CUDA device for the CUDA backend
    size_t cache_bytes = 1ull << 30;  // texture cache budget
};

// Where a renderer's time went over its render() calls since it was made or last reset. Host
// times are wall-clock on the calling thread; device times are CUDA event intervals on the
// renderer's streams, which run beside each other and beside the host, so they may add up to
// more than wall_ms. A renderer that does not measure (the CPU one) leaves everything at 0.
struct RenderTimings {
    int64_t calls = 0, images = 0, sub_batches = 0;
    double wall_ms = 0;      // inside render()
    double plan_ms = 0;      // host: planning sub-batches and writing their upload blobs
    double texture_ms = 0;   // host: textures missing on the device, fetched (decoded) and staged
    double enqueue_ms = 0;   // host: issuing copies and launches
    double wait_ms = 0;      // host: blocked until the device finished a sub-batch
    double copy_out_ms = 0;  // host: finished pixels and ids copied into the frames
    double upload_ms = 0;    // device: textures, backgrounds and plans, host to device
    double blur_ms = 0, composite_ms = 0;  // device: the kernels
    double download_ms = 0;                // device: pixels and ids, device to host
};

class Renderer {
  public:
    virtual ~Renderer() = default;
    // Renders a batch of scenes; frames.size() becomes scenes.size(). Deterministic: the same
    // scene gives the same frame on the same backend, whatever the batch or thread count.
    virtual void render(const std::vector<SceneSpec>& scenes, std::vector<Frame>& frames) = 0;
    // Whether render_one may run on several threads at once, each with its own frame, so that
    // a caller can take each image from scene to encoded bytes on one thread. The CPU backend
    // can; a batch backend (CUDA) cannot and renders through render().
    virtual bool renders_per_thread() const { return false; }
    // One scene on the calling thread, into `frame` (reused when its size already fits).
    virtual void render_one(const SceneSpec& scene, Frame& frame) {
        std::vector<Frame> frames;
        render({scene}, frames);
        frame = std::move(frames.front());
    }
    // "cpu" or "cuda:N (NAME)".
    virtual std::string name() const = 0;
    // What render() spent its time on, for benchmarks; all 0 where the backend does not measure.
    virtual RenderTimings timings() const { return {}; }
    virtual void reset_timings() {}
};

std::unique_ptr<Renderer> make_cpu_renderer(const RenderInputs& inputs);
class TextureCache;
// The texture cache both backends draw from, with the same levels for the same inputs.
std::unique_ptr<TextureCache> make_texture_cache(const RenderInputs& inputs);
// Throws Error when the CUDA backend is not built or no usable GPU is present.
std::unique_ptr<Renderer> make_cuda_renderer(const RenderInputs& inputs);
// Device::Auto picks CUDA when built and a GPU is usable, else the CPU (saying so in `why`).
std::unique_ptr<Renderer> make_renderer(Device device, const RenderInputs& inputs,
                                        std::string& why);

}  // namespace cardsynth
