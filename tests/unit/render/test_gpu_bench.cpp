// Render throughput of the two backends on the benchmark workload W1 (1280x720, 8 to 16 cards),
// without and with the default global effects, and where the CUDA renderer's time goes. Hidden
// ([.]): run it by its tag on a machine with a GPU, `test_render "[.gpu-bench]"`; it prints
// images/s and the breakdown, and checks only that both backends ran.
//
// Batches of several sizes, since a render() call has a fixed cost (the first sub-batch is
// planned and the last copied out with the device idle) that only large batches hide. Every
// rate is taken after a warm-up pass over the same scenes, so that the texture caches, the
// renderers' buffers and the frames are in place: the steady state of a long `generate`.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "base/error.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "render/render.h"
#include "scene/background.h"
#include "scene/scene.h"

using namespace cardsynth;

namespace {

Config w1_config(bool effects) {
    Config c;
    c.frame.width = 1280;
    c.frame.height = 720;
    c.scene.min_cards = 8;
    c.scene.max_cards = 16;
    if (!effects) c.scene.effects = EffectsConfig{0, 0, 0, 0};
    return c;
}

void render_all(Renderer& renderer, const std::vector<SceneSpec>& scenes, size_t batch,
                std::vector<Frame>& frames) {
    for (size_t b = 0; b < scenes.size(); b += batch)
        renderer.render({scenes.begin() + b, scenes.begin() + std::min(scenes.size(), b + batch)},
                        frames);
}

// Images/s of `renderer` over `scenes` in batches of `batch`, after a warm-up pass; the
// renderer's timings then cover the measured pass only.
double rate(Renderer& renderer, const std::vector<SceneSpec>& scenes, size_t batch) {
    std::vector<Frame> frames;
    render_all(renderer, scenes, batch, frames);
    renderer.reset_timings();
    const auto t0 = std::chrono::steady_clock::now();
    render_all(renderer, scenes, batch, frames);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(scenes.size()) / s;
}

struct Part {
    const char* name;
    double ms;
};

// "name ms (share%), ..." with each part per image and as a share of `whole`.
std::string parts_line(const std::vector<Part>& parts, int64_t images, double whole) {
    std::string out;
    char buf[96];
    for (const Part& p : parts) {
        std::snprintf(buf, sizeof buf, "%s%s %.3f (%.0f%%)", out.empty() ? "" : ", ", p.name,
                      p.ms / static_cast<double>(images), whole > 0 ? 100.0 * p.ms / whole : 0.0);
        out += buf;
    }
    return out;
}

// Two lines: the device's copies and kernels as shares of their sum (two streams overlap, so
// the sum may exceed the wall time), and the host's parts as shares of the time in render().
void print_breakdown(const char* label, size_t batch, const RenderTimings& t) {
    if (t.images == 0) return;
    const double n = static_cast<double>(t.images);
    const std::vector<Part> device = {{"upload", t.upload_ms},
                                      {"blur", t.blur_ms},
                                      {"composite", t.composite_ms},
                                      {"download", t.download_ms}};
    double device_ms = 0;
    for (const Part& p : device) device_ms += p.ms;
    std::printf(
        "%s: cuda at batch %zu, device ms per image (share of device time): %s; "
        "sum %.3f\n",
        label, batch, parts_line(device, t.images, device_ms).c_str(), device_ms / n);
    const std::vector<Part> host = {{"textures", t.texture_ms},
                                    {"plan", t.plan_ms},
                                    {"enqueue", t.enqueue_ms},
                                    {"copy-out", t.copy_out_ms},
                                    {"wait for device", t.wait_ms}};
    std::printf(
        "%s: cuda at batch %zu, host ms per image (share of render time): %s; "
        "render %.3f, %.1f images and %.1f sub-batches a call\n",
        label, batch, parts_line(host, t.images, t.wall_ms).c_str(), t.wall_ms / n,
        n / static_cast<double>(t.calls),
        static_cast<double>(t.sub_batches) / static_cast<double>(t.calls));
}

}  // namespace

TEST_CASE("render throughput, CPU and CUDA, at W1", "[.gpu-bench]") {
    const size_t kCpuScenes = 256, kCudaScenes = 512;
    for (bool effects : {false, true}) {
        const char* label = effects ? "W1 + default effects" : "W1";
        const Config config = w1_config(effects);
        const Catalog catalog = Catalog::load(config.cards);
        const Backgrounds backgrounds = Backgrounds::load(config.backgrounds, config.frame);
        std::vector<SceneSpec> scenes;
        for (size_t i = 0; i < kCudaScenes; ++i)
            scenes.push_back(compose(config, catalog, backgrounds, static_cast<int64_t>(i)));
        const std::vector<SceneSpec> cpu_scenes(scenes.begin(), scenes.begin() + kCpuScenes);
        RenderInputs inputs;
        inputs.config = &config;
        inputs.catalog = &catalog;
        inputs.backgrounds = &backgrounds;
        inputs.threads = omp_get_max_threads();

        double cpu = 0;
        {
            const std::unique_ptr<Renderer> renderer = make_cpu_renderer(inputs);
            for (size_t batch : {32, 128}) {
                const double r = rate(*renderer, cpu_scenes, batch);
                std::printf("%s: cpu (%d threads), batch %zu: %.1f images/s\n", label,
                            inputs.threads, batch, r);
                cpu = std::max(cpu, r);
            }
        }
        CHECK(cpu > 0);

        std::unique_ptr<Renderer> gpu;
        try {
            gpu = make_cuda_renderer(inputs);
        } catch (const Error& e) {
            WARN("no usable GPU: " << e.what());
            return;
        }
        double cuda = 0;
        size_t best = 0;
        RenderTimings best_timings;
        for (size_t batch : {32, 128, 512}) {
            const double r = rate(*gpu, scenes, batch);
            std::printf("%s: %s, batch %zu: %.1f images/s\n", label, gpu->name().c_str(), batch, r);
            if (r > cuda) cuda = r, best = batch, best_timings = gpu->timings();
        }
        std::printf("%s: best: cpu %.1f images/s, cuda %.1f images/s (batch %zu), cuda/cpu %.2f\n",
                    label, cpu, cuda, best, cuda / cpu);
        print_breakdown(label, best, best_timings);
        CHECK(cuda > 0);
        CHECK(best_timings.images == static_cast<int64_t>(scenes.size()));
    }
}
