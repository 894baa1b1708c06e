#include "run/image_maker.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <omp.h>

#include "base/parallel.h"
#include "encode/encode.h"
#include "render/labels.h"
#include "run/generator.h"
#include "run/signals.h"
#include "scene/scene.h"

namespace cardsynth {
namespace {

// This image took `slow` times as long (the slow-rank test hook).
void slow_down(double slow, Clock::time_point image_start) {
    if (slow > 1.0)
        std::this_thread::sleep_for(
            std::chrono::duration<double>(seconds_since(image_start) * (slow - 1.0)));
}

// Stage times summed per OpenMP thread, so that threads never share a counter.
class ThreadTimes {
  public:
    explicit ThreadTimes(int threads) : times_(static_cast<size_t>(std::max(threads, 1))) {}
    StageTimes& mine() { return times_[static_cast<size_t>(omp_get_thread_num())]; }
    void add_to(StageTimes& t) const {
        for (const StageTimes& s : times_) {
            t.sample += s.sample;
            t.render += s.render;
            t.labels += s.labels;
            t.encode += s.encode;
        }
    }

  private:
    std::vector<StageTimes> times_;
};

}  // namespace

double slow_factor(int rank) {
    const char* v = std::getenv("CARDSYNTH_TEST_SLOW_RANK");
    if (!v) return 1.0;
    int r = -1;
    double f = 1.0;
    if (std::sscanf(v, "%d:%lf", &r, &f) == 2 && r == rank && f > 1.0) return f;
    return 1.0;
}

ImageMaker::ImageMaker(const Config& config, const Catalog& catalog, const Backgrounds& backgrounds,
                       Renderer& renderer, int threads)
    : config_(config),
      catalog_(catalog),
      backgrounds_(backgrounds),
      renderer_(renderer),
      threads_(threads),
      pixels_(static_cast<size_t>(config.frame.width) * config.frame.height) {}

void ImageMaker::make(const RoundPlan& plan, RoundData& rd, StageTimes& times) {
    const auto deadline = Clock::now() + plan.time;
    reset(rd, plan.range);
    const int64_t made = renderer_.renders_per_thread() ? make_per_thread(plan, deadline, rd, times)
                                                        : make_batched(plan, deadline, rd, times);
    truncate(rd, made);
}

// A renderer that draws on the calling thread: each thread takes an image from scene to stored
// bytes in its own frame, so no thread waits for another inside a round. Returns how many
// images of the range, from its start, were made before the deadline.
int64_t ImageMaker::make_per_thread(const RoundPlan& plan, Clock::time_point deadline,
                                    RoundData& rd, StageTimes& times) {
    const int64_t n = plan.range.size();
    // The first image not started by the deadline; the dynamic schedule hands images out in
    // order, so every image before it is made.
    std::atomic<int64_t> stop{n};
    ThreadTimes thread_times(threads_);
    parallel_for(static_cast<int>(n), threads_, [&](int j) {
        static thread_local Frame frame;
        if (j >= stop.load(std::memory_order_relaxed)) return;
        const auto start = Clock::now();
        // The first image is always made, so that every round makes progress. A stop signal
        // ends the round as the deadline does, so the run stops within an image's time.
        if (j > 0 && (start >= deadline || stop_signal() != 0)) {
            int64_t s = stop.load();
            while (j < s && !stop.compare_exchange_weak(s, j)) {
            }
            return;
        }
        StageTimes& t = thread_times.mine();
        const bool jpeg = config_.output.storage == Storage::Jpeg;
        int quality = config_.output.jpeg_quality;
        const ImageLabels labels =
            make_one_image(config_, catalog_, backgrounds_, renderer_, plan.range.begin + j, frame,
                           t, jpeg ? &quality : nullptr);
        double t0 = thread_cpu();
        keep_labels(labels, frame, j, rd);
        const double t1 = thread_cpu();
        t.labels += t1 - t0;
        keep_pixels(frame, quality, j, rd);
        t.encode += thread_cpu() - t1;
        slow_down(plan.slow, start);
    });
    thread_times.add_to(times);
    return stop.load();
}

// A batch renderer (CUDA): scenes for a few images per thread, one render() call, then labels
// and encoding in parallel; the deadline is checked between batches.
int64_t ImageMaker::make_batched(const RoundPlan& plan, Clock::time_point deadline, RoundData& rd,
                                 StageTimes& times) {
    const int64_t batch = std::max(2, 2 * threads_);
    const IndexRange range = plan.range;
    std::vector<SceneSpec> scenes;
    std::vector<Frame> frames;
    int64_t b = range.begin;
    for (; b < range.end && (b == range.begin || (Clock::now() < deadline && stop_signal() == 0));
         b += batch) {
        const auto start = Clock::now();
        const int m = static_cast<int>(std::min(batch, range.end - b));
        scenes.resize(m);
        double t0 = process_cpu();
        parallel_for(m, threads_,
                     [&](int i) { scenes[i] = compose(config_, catalog_, backgrounds_, b + i); });
        times.sample += process_cpu() - t0;
        t0 = process_cpu();
        renderer_.render(scenes, frames);
        times.render += process_cpu() - t0;
        ThreadTimes thread_times(threads_);
        parallel_for(m, threads_, [&](int i) {
            StageTimes& t = thread_times.mine();
            const int64_t j = b + i - range.begin;
            double s0 = thread_cpu();
            keep_labels(compute_labels(scenes[i], frames[i].ids), frames[i], j, rd);
            t.labels += thread_cpu() - s0;
            s0 = thread_cpu();
            // Stored as JPEG, the frame is compressed once, at the camera's quality.
            if (config_.output.storage != Storage::Jpeg) camera_jpeg(scenes[i], frames[i]);
            keep_pixels(frames[i], stored_jpeg_quality(config_, scenes[i]), j, rd);
            t.encode += thread_cpu() - s0;
        });
        thread_times.add_to(times);
        slow_down(plan.slow, start);
    }
    return std::min(b, range.end) - range.begin;
}

void ImageMaker::reset(RoundData& rd, IndexRange range) const {
    const int64_t n = range.size();
    rd.begin = range.begin;
    rd.end = range.end;
    const bool raw = config_.output.storage == Storage::Raw;
    rd.raw.resize(raw ? n * pixels_ * 3 : 0);
    // Resized, not cleared: each image's vector keeps its capacity from the round before, so
    // encoding a frame writes into memory that is already mapped.
    rd.encoded.resize(raw ? 0 : n);
    reset_labels(rd, n, config_.scene.max_cards);
    rd.masks.resize(config_.output.masks ? n * pixels_ : 0);
}

// Keeps the first `made` images of the round.
void ImageMaker::truncate(RoundData& rd, int64_t made) const {
    if (made >= rd.images()) return;
    const size_t k = static_cast<size_t>(made);
    rd.end = rd.begin + made;
    if (!rd.raw.empty()) rd.raw.resize(k * pixels_ * 3);
    if (!rd.encoded.empty()) rd.encoded.resize(k);
    if (!rd.masks.empty()) rd.masks.resize(k * pixels_);
    truncate_labels(rd, made, config_.scene.max_cards);
}

// Image j of the round (index range.begin + j): labels into `rd`, and the mask.
void ImageMaker::keep_labels(const ImageLabels& labels, const Frame& frame, int64_t j,
                             RoundData& rd) const {
    store_labels(rd, j, config_.scene.max_cards, labels);
    if (config_.output.masks)
        std::copy(frame.ids.data, frame.ids.data + pixels_, rd.masks.begin() + j * pixels_);
}

void ImageMaker::keep_pixels(const Frame& frame, int jpeg_quality, int64_t j, RoundData& rd) const {
    if (config_.output.storage == Storage::Raw) {
        const size_t bytes = pixels_ * 3;
        std::copy(frame.rgb.data, frame.rgb.data + bytes, rd.raw.begin() + j * bytes);
    } else {
        encode_image(frame.rgb, config_.output.storage, jpeg_quality, rd.encoded[j]);
    }
}

}  // namespace cardsynth
