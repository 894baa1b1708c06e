// Images by index in this process, with no file in between: what `generate` assembles once
// (configuration, catalog, backgrounds, renderer), then any image i on demand, equal byte for byte
// to image i of `generate` with the same configuration (raw storage) and with the file's label
// columns. The Python module (src/python) is its caller.
//
// All work runs on a thread the Generator owns, with an OpenMP team of its own: OpenMP teams do
// not survive fork() (a child whose parent ran an OpenMP loop hangs in its first loop on the
// calling thread, waiting for the parent's threads), and the calling thread's OpenMP settings,
// such as a training framework's, stay as they are.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "dataset/label_schema.h"
#include "render/labels.h"
#include "render/render.h"
#include "run/stage_times.h"
#include "run/thread_team.h"
#include "run/worker_thread.h"
#include "scene/background.h"

namespace cardsynth {

// Image `index` from scene to pixels and labels on the calling thread, into `frame` (for a
// renderer that renders_per_thread(); `frame` is reused when its size fits, so it may wrap a
// caller's buffer); adds the CPU time of sampling, rendering and labelling to `times`. Every image
// of a `generate` round (run/image_maker.h) and every image of a Generator goes through it.
// The camera's JPEG pass (camera_jpeg) is part of the pixels, unless the caller stores the frame
// as JPEG itself: then it passes `jpeg_quality`, which receives the quality to encode at
// (stored_jpeg_quality), so that the frame is compressed once.
ImageLabels make_one_image(const Config& config, const Catalog& catalog,
                           const Backgrounds& backgrounds, Renderer& renderer, int64_t index,
                           Frame& frame, StageTimes& times, int* jpeg_quality = nullptr);

// The frame through JPEG at the quality its camera drew (scene.camera.jpeg_quality), decoded
// back in place; nothing when the camera drew none.
void camera_jpeg(const SceneSpec& scene, Frame& frame);
// The quality a frame stored as JPEG is encoded at: its camera's, else output.jpeg_quality.
int stored_jpeg_quality(const Config& config, const SceneSpec& scene);

struct GeneratorOptions {
    // `threads` was set by the caller, as by --threads: OMP_NUM_THREADS is not consulted.
    bool threads_given = false;
    // Processes of this machine that each run a Generator (DataLoader workers): `auto` and
    // `conservative` share the cores among them as among the ranks of a node.
    int processes = 1;
};

class Generator {
  public:
    // Validates `config`, chooses the threads, loads the catalog and the backgrounds and makes
    // the renderer. Throws ConfigError, InputError or Error with the command line's messages.
    explicit Generator(const Config& config, const GeneratorOptions& options = {});
    ~Generator();
    Generator(const Generator&) = delete;
    Generator& operator=(const Generator&) = delete;

    const Config& config() const { return config_; }
    int threads() const { return threads_; }
    const Catalog& catalog() const { return catalog_; }
    std::string renderer_name() const { return renderer_->name(); }
    // The columns of the file's /labels, in its order.
    const LabelSchema& label_schema() const { return default_label_schema(); }
    int64_t frame_bytes() const;
    int64_t mask_bytes() const { return frame_bytes() / 3; }

    // Makes images `indices` (each >= 0) on the generator's threads: their pixels into `pixels`,
    // indices.size() RGB frames of height x width x 3 back to back; their labels into `labels`,
    // one buffer per column of label_schema() holding indices.size() images' entries as /labels
    // stores them (unused slots padded); and, when `masks` is not null, their masks as /masks
    // stores them (height x width each, 0 background, k + 1 card slot k). Throws ConfigError for a
    // negative index, and Error when called in another process than the one that made it.
    // Calls from several threads take turns.
    void render(const std::vector<int64_t>& indices, uint8_t* pixels,
                const std::vector<uint8_t*>& labels, uint8_t* masks = nullptr);

    // CPU seconds of each stage (sample, render, labels) over the images made so far, and their
    // number: the figures of the command line's [timing] line.
    StageTimes times() const { return times_; }
    int64_t images_made() const { return made_; }

  private:
    void load(const GeneratorOptions& options);
    void render_per_thread(const std::vector<int64_t>& indices, uint8_t* pixels,
                           const std::vector<uint8_t*>& labels, uint8_t* masks);
    void render_batched(const std::vector<int64_t>& indices, uint8_t* pixels,
                        const std::vector<uint8_t*>& labels, uint8_t* masks);
    void store(const ImageLabels& image, size_t k, const std::vector<uint8_t*>& labels) const;

    Config config_;
    int threads_ = 1;
    Catalog catalog_;
    Backgrounds backgrounds_;
    std::unique_ptr<Renderer> renderer_;
    std::vector<std::vector<uint8_t>> padding_;  // one unused slot's bytes, per column
    StageTimes times_;
    int64_t made_ = 0;
    pid_t owner_;
    std::mutex busy_;                   // one render() at a time
    std::unique_ptr<ThreadTeam> team_;  // the render threads; the worker thread is member 0
    // Last, so that it ends (joined) before the rest is destroyed. A copy of the generator in a
    // forked child has no such thread to join: it leaks it instead.
    std::unique_ptr<WorkerThread> worker_;
};

}  // namespace cardsynth
