#include "run/generator.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <omp.h>
#include <opencv2/core.hpp>

#include "base/error.h"
#include "base/log.h"
#include "base/stream_copy.h"
#include "encode/encode.h"
#include "render/labels.h"
#include "scene/scene.h"
#include "system/system.h"

namespace cardsynth {
namespace {

// The threads of `generate` on one node whose ranks are the generator's processes.
int generator_threads(const Config& config, const GeneratorOptions& options) {
    const int cores = available_cores();
    const int processes = std::max(1, options.processes);
    const char* omp_env = options.threads_given ? nullptr : std::getenv("OMP_NUM_THREADS");
    const int threads = choose_threads(config.threads, cores, processes, omp_env ? omp_env : "");
    const int cap = thread_cap(cores, processes);
    if (threads <= cap) return threads;
    log::warn("threads " + std::to_string(threads) + " is more than the cap of " +
              std::to_string(cap) + " (" + std::to_string(kThreadsPerCoreCap) +
              " x the usable cores per process, at most " + std::to_string(kMaxThreads) +
              "); using " + std::to_string(cap));
    return cap;
}

// A column's entries for one image with no card: every element its padding.
std::vector<uint8_t> empty_entries(const LabelColumn& column, int max_cards) {
    const int64_t size = element_size(column.type);
    std::vector<uint8_t> bytes(static_cast<size_t>(column.bytes_per_image(max_cards)));
    for (size_t e = 0; e < bytes.size(); e += static_cast<size_t>(size))
        store_element(column.type, column.padding, &bytes[e]);
    return bytes;
}

// A frame's pixels (when `rgb` is not null) and ids (when `ids` is not null) into flat buffers;
// the pixels past the caches, as the caller reads them later, if at all, in another thread.
void copy_out(const Frame& frame, uint8_t* rgb, uint8_t* ids) {
    if (rgb && frame.rgb.isContinuous())
        stream_copy(frame.rgb.data, rgb, frame.rgb.total() * frame.rgb.elemSize());
    else if (rgb)
        frame.rgb.copyTo(cv::Mat(frame.rgb.rows, frame.rgb.cols, CV_8UC3, rgb));
    if (ids) frame.ids.copyTo(cv::Mat(frame.ids.rows, frame.ids.cols, CV_8UC1, ids));
}

// Frames drawn in place into a call's output larger than this (the caller's array, typically
// reused from call to call) find its lines gone from the caches, so each line is read from
// memory before it is drawn; such a call renders each image in the thread's own frame, which
// stays in cache, and streams it out. W1 at 2 threads, render_batch into one reused array: 495
// images/s in place and 535-553 streamed at 32 frames a call (88 MB), 509-530 and 543-546 at 16,
// but 539-544 in place and 519-535 streamed at 8 (22 MB, still in cache from the call before).
constexpr int64_t kInPlaceOutputBytes = int64_t{32} << 20;

void add(StageTimes& sum, const StageTimes& t) {
    sum.sample += t.sample;
    sum.render += t.render;
    sum.labels += t.labels;
}

}  // namespace

void camera_jpeg(const SceneSpec& scene, Frame& frame) {
    if (scene.camera.jpeg_quality > 0) jpeg_round_trip(frame.rgb, scene.camera.jpeg_quality);
}

int stored_jpeg_quality(const Config& config, const SceneSpec& scene) {
    return scene.camera.jpeg_quality > 0 ? scene.camera.jpeg_quality : config.output.jpeg_quality;
}

ImageLabels make_one_image(const Config& config, const Catalog& catalog,
                           const Backgrounds& backgrounds, Renderer& renderer, int64_t index,
                           Frame& frame, StageTimes& times, int* jpeg_quality) {
    double t0 = thread_cpu();
    const SceneSpec scene = compose(config, catalog, backgrounds, index);
    double t1 = thread_cpu();
    times.sample += t1 - t0;
    renderer.render_one(scene, frame);
    if (jpeg_quality)
        *jpeg_quality = stored_jpeg_quality(config, scene);
    else
        camera_jpeg(scene, frame);
    t0 = thread_cpu();
    times.render += t0 - t1;
    ImageLabels labels = compute_labels(scene, frame.ids);
    times.labels += thread_cpu() - t0;
    return labels;
}

Generator::Generator(const Config& config, const GeneratorOptions& options)
    : config_(config), owner_(getpid()), worker_(std::make_unique<WorkerThread>()) {
    validate(config_);
    worker_->start([&] { load(options); });
    worker_->wait();
}

Generator::~Generator() {
    // A forked child has none of the parent's threads to signal or join.
    if (getpid() != owner_) (void)worker_.release(), (void)team_.release();
}

// On the worker thread, so that the OpenMP team of the loading loops is the one rendering uses.
void Generator::load(const GeneratorOptions& options) {
    threads_ = generator_threads(config_, options);
    omp_set_num_threads(threads_);
    team_ = std::make_unique<ThreadTeam>(threads_);
    // As in `generate`: OpenCV's own pool would only add threads on the same cores.
    cv::setNumThreads(1);
    catalog_ = Catalog::load(config_.cards);
    backgrounds_ = Backgrounds::load(config_.backgrounds, config_.frame);
    RenderInputs inputs;
    inputs.config = &config_;
    inputs.catalog = &catalog_;
    inputs.backgrounds = &backgrounds_;
    inputs.threads = threads_;
    inputs.cache_bytes = static_cast<size_t>(config_.cache_mb) << 20;
    std::string why;
    renderer_ = make_renderer(config_.device, inputs, why);
    for (const LabelColumn& column : label_schema().columns())
        padding_.push_back(empty_entries(column, config_.scene.max_cards));
}

int64_t Generator::frame_bytes() const {
    return static_cast<int64_t>(config_.frame.width) * config_.frame.height * 3;
}

void Generator::render(const std::vector<int64_t>& indices, uint8_t* pixels,
                       const std::vector<uint8_t*>& labels, uint8_t* masks) {
    if (getpid() != owner_)
        throw Error("this Generator was made in process " + std::to_string(owner_) +
                    ", before a fork; make one in each process that renders (after the fork)");
    if (labels.size() != label_schema().size())
        throw Error("render: " + std::to_string(labels.size()) + " label buffers for " +
                    std::to_string(label_schema().size()) + " columns");
    for (const int64_t i : indices)
        if (i < 0) throw ConfigError("image index must be >= 0, got " + std::to_string(i));
    if (indices.empty()) return;
    const std::lock_guard<std::mutex> lock(busy_);
    worker_->start([&] {
        if (renderer_->renders_per_thread())
            render_per_thread(indices, pixels, labels, masks);
        else
            render_batched(indices, pixels, labels, masks);
    });
    worker_->wait();
    made_ += static_cast<int64_t>(indices.size());
}

// Each thread takes an image from scene to labels, drawing straight into its place in `pixels`
// (and its id buffer into `masks`) when the call's frames fit in the caches, and into a frame of
// its own, streamed out, when they do not (kInPlaceOutputBytes): render_one reuses a frame whose
// size fits (render/render.h); a renderer that ever drew elsewhere would be copied out.
void Generator::render_per_thread(const std::vector<int64_t>& indices, uint8_t* pixels,
                                  const std::vector<uint8_t*>& labels, uint8_t* masks) {
    const int H = config_.frame.height, W = config_.frame.width;
    const bool in_place =
        static_cast<int64_t>(indices.size()) * frame_bytes() <= kInPlaceOutputBytes;
    std::vector<StageTimes> times(static_cast<size_t>(threads_));
    team_->for_each(static_cast<int>(indices.size()), [&](int k, int member) {
        static thread_local Frame own;  // pixels not drawn in place; ids when no masks are kept
        uint8_t* rgb = pixels + k * frame_bytes();
        uint8_t* ids = masks ? masks + k * mask_bytes() : nullptr;
        Frame frame{in_place ? cv::Mat(H, W, CV_8UC3, rgb) : own.rgb,
                    ids ? cv::Mat(H, W, CV_8UC1, ids) : own.ids};
        StageTimes& t = times[static_cast<size_t>(member)];
        const ImageLabels image = make_one_image(config_, catalog_, backgrounds_, *renderer_,
                                                 indices[static_cast<size_t>(k)], frame, t);
        const double t0 = thread_cpu();
        copy_out(frame, frame.rgb.data == rgb ? nullptr : rgb,
                 ids && frame.ids.data != ids ? ids : nullptr);
        if (!in_place) own.rgb = frame.rgb;
        if (!ids) own.ids = frame.ids;
        store(image, static_cast<size_t>(k), labels);
        t.labels += thread_cpu() - t0;
    });
    for (const StageTimes& t : times) add(times_, t);
}

// A batch renderer (CUDA): scenes on the threads, one render() call, then labels and pixels.
void Generator::render_batched(const std::vector<int64_t>& indices, uint8_t* pixels,
                               const std::vector<uint8_t*>& labels, uint8_t* masks) {
    const int n = static_cast<int>(indices.size());
    std::vector<SceneSpec> scenes(indices.size());
    std::vector<Frame> frames;
    double t0 = process_cpu();
    team_->for_each(n, [&](int k, int) {
        scenes[k] = compose(config_, catalog_, backgrounds_, indices[static_cast<size_t>(k)]);
    });
    times_.sample += process_cpu() - t0;
    t0 = process_cpu();
    renderer_->render(scenes, frames);
    team_->for_each(n, [&](int k, int) { camera_jpeg(scenes[k], frames[k]); });
    times_.render += process_cpu() - t0;
    t0 = process_cpu();
    team_->for_each(n, [&](int k, int) {
        store(compute_labels(scenes[k], frames[k].ids), static_cast<size_t>(k), labels);
        copy_out(frames[k], pixels + k * frame_bytes(), masks ? masks + k * mask_bytes() : nullptr);
    });
    times_.labels += process_cpu() - t0;
}

// Image k's entries of every column: the padding, then the cards its slots hold.
void Generator::store(const ImageLabels& image, size_t k,
                      const std::vector<uint8_t*>& labels) const {
    const int max_cards = config_.scene.max_cards;
    const int stored = std::min<int>(max_cards, static_cast<int>(image.cards.size()));
    for (size_t c = 0; c < label_schema().size(); ++c) {
        const LabelColumn& column = label_schema()[c];
        uint8_t* out = labels[c] + k * padding_[c].size();
        std::memcpy(out, padding_[c].data(), padding_[c].size());
        if (column.extent == LabelExtent::PerImage) {
            column.fill_image(image, stored, out);
            continue;
        }
        for (int s = 0; s < stored; ++s)
            column.fill_slot(image.cards[s], out + s * column.bytes_per_entry());
    }
}

}  // namespace cardsynth
