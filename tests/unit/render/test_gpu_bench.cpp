// Render throughput of the two backends on the benchmark workload W1 (1280x720, 8 to 16 cards),
// without and with the default global effects. Hidden ([.]): run it by its tag on a machine with
// a GPU, `test_render "[.gpu-bench]"`; it prints images/s and checks only that both ran.
#include <omp.h>

#include <chrono>
#include <cstdio>
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

// Images/s of `renderer` over `scenes`, in batches of `batch`, after one warm-up batch.
double rate(Renderer& renderer, const std::vector<SceneSpec>& scenes, size_t batch) {
    std::vector<Frame> frames;
    renderer.render({scenes.begin(), scenes.begin() + batch}, frames);
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t b = 0; b < scenes.size(); b += batch)
        renderer.render({scenes.begin() + b, scenes.begin() + std::min(scenes.size(), b + batch)},
                        frames);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return scenes.size() / s;
}

}  // namespace

TEST_CASE("render throughput, CPU and CUDA, at W1", "[.gpu-bench]") {
    for (bool effects : {false, true}) {
        const Config config = w1_config(effects);
        const Catalog catalog = Catalog::load(config.cards);
        const Backgrounds backgrounds = Backgrounds::load(config.backgrounds, config.frame);
        std::vector<SceneSpec> scenes;
        for (int64_t i = 0; i < 256; ++i) scenes.push_back(compose(config, catalog, backgrounds, i));
        RenderInputs inputs;
        inputs.config = &config;
        inputs.catalog = &catalog;
        inputs.backgrounds = &backgrounds;
        inputs.threads = omp_get_max_threads();
        const double cpu = rate(*make_cpu_renderer(inputs), scenes, 32);
        std::unique_ptr<Renderer> gpu;
        try {
            gpu = make_cuda_renderer(inputs);
        } catch (const Error& e) {
            WARN("no usable GPU: " << e.what());
            return;
        }
        const double cuda = rate(*gpu, scenes, 32);
        std::printf("W1%s: cpu (%d threads) %.1f images/s, %s %.1f images/s, ratio %.2f\n",
                    effects ? " + default effects" : "", inputs.threads, cpu,
                    gpu->name().c_str(), cuda, cuda / cpu);
        CHECK(cpu > 0);
        CHECK(cuda > 0);
    }
}
