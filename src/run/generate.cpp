#include "run/generate.h"

#include <malloc.h>

#include <cstdlib>
#include <memory>

#include <omp.h>
#include <opencv2/core.hpp>

#include "base/log.h"
#include "base/progress.h"
#include "catalog/catalog.h"
#include "render/render.h"
#include "run/coordinator.h"
#include "run/image_maker.h"
#include "run/output_file.h"
#include "run/round_pipeline.h"
#include "run/signals.h"
#include "run/summary.h"
#include "run/working_set.h"
#include "scene/background.h"
#include "system/system.h"

namespace cardsynth {
namespace {

// A round lasts about this long, so the barrier costs little and a crash loses little.
constexpr double kRoundSeconds = 3.0;
// Declared capacity before any measurement, in images/s per thread whatever the frame size. High
// on purpose: the first round is a short probe that its deadline ends (a slow rank just makes
// fewer), and the memory cap bounds what a rank holds.
constexpr double kNominalRatePerThread = 200.0;

// Frames, card images and round buffers are a few hundred KiB to a few hundred MiB, made and
// freed all run long: kept in the heap instead of mapped and unmapped each time, they cost no
// page faults the second time round.
void keep_freed_memory_in_heap() {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

// This rank's threads and GPU; rank 0 prints every node's.
RenderInputs rank_resources(const Config& config, const GenerateOptions& options,
                            const MpiContext& mpi) {
    const int cores = available_cores();
    const std::vector<uint64_t> mask = affinity_mask();
    const int node = node_cores(mpi.node_or(mask), mask, cores, mpi.local_size());
    const char* omp_env = std::getenv("OMP_NUM_THREADS");
    const bool from_env = !options.threads_flag && config.threads.mode == ThreadMode::Auto &&
                          omp_env != nullptr && *omp_env != '\0';
    int threads = choose_threads(config.threads, node, mpi.local_size(),
                                 options.threads_flag ? "" : (omp_env ? omp_env : ""));
    const int cap = thread_cap(node, mpi.local_size());
    if (threads > cap) {
        const int share = std::max(1, node / std::max(1, mpi.local_size()));
        log::warn(std::string("threads ") + std::to_string(threads) + " (from " +
                  (from_env ? "OMP_NUM_THREADS" : "threads") + ") is more than the cap of " +
                  std::to_string(cap) + " (" + std::to_string(kThreadsPerCoreCap) + " x " +
                  std::to_string(share) + " usable cores, at most " + std::to_string(kMaxThreads) +
                  "); using " + std::to_string(cap));
        threads = cap;
    }
    // Every parallel loop of this rank, start-up included (card checks, playmats), uses its share
    // of the node; OpenCV's own pool would only add threads on the same cores.
    omp_set_num_threads(threads);
    cv::setNumThreads(1);
    const GpuProbe gpus = probe_gpus();
    print_system(mpi, cores, threads, gpus);
    RenderInputs inputs;
    inputs.config = &config;
    inputs.threads = threads;
    inputs.gpu = gpus.gpus.empty() ? 0 : mpi.local_rank() % static_cast<int>(gpus.gpus.size());
    inputs.cache_bytes = static_cast<size_t>(config.cache_mb) << 20;
    return inputs;
}

// Rank 0's coordinator over the images /done still misses.
Coordinator make_coordinator(const Config& config, DatasetWriter& writer, int threads,
                             const MpiContext& mpi) {
    std::vector<uint8_t> done;
    mpi.agree([&] { done = writer.read_done(); });
    // Declared capacity: a guess per thread, whatever the frame size; the probe round's deadline
    // makes it harmless.
    const auto capacity = mpi.allgather(threads * kNominalRatePerThread);
    const int64_t per_image = std::max<int64_t>(1, stored_bytes_per_image(config));
    return Coordinator(done, capacity, kRoundSeconds,
                       std::max<int64_t>(4, kRoundBytesBudget / per_image));
}

void log_plan(const Config& config, int64_t to_make, const Renderer& renderer,
              const MpiContext& mpi) {
    log::info("[plan] " + std::to_string(config.num_images) + " images, " +
              std::to_string(to_make) + " to make, " + std::to_string(mpi.size()) +
              " rank(s), storage " + to_string(config.output.storage) + ", renderer " +
              renderer.name() + ", output '" + config.output.path + "'");
}

}  // namespace

void run_generate(const Config& config, const GenerateOptions& options, const MpiContext& mpi) {
    const auto start = Clock::now();
    keep_freed_memory_in_heap();
    install_stop_signals();
    mpi.agree([&] { validate(config); });
    const OutputFile output(config, options.resume, mpi);  // a bad path fails before any work
    if (output.already_complete()) {
        log::info("[output] '" + config.output.path + "' is already complete; nothing to resume");
        return;
    }
    RenderInputs inputs = rank_resources(config, options, mpi);
    // Before the catalog and playmats load: a frame too large for this node fails in seconds.
    mpi.agree([&] {
        std::string source;
        const int64_t available = available_memory_bytes(source);
        check_working_set(estimate_working_set(config, inputs.threads), config, inputs.threads,
                          mpi.local_size(), available, source);
    });
    Catalog catalog;
    mpi.agree([&] { catalog = Catalog::load(config.cards); });
    for (const std::string& line : catalog.report_lines()) log::info(line);
    Backgrounds backgrounds;
    mpi.agree([&] { backgrounds = Backgrounds::load(config.backgrounds, config.frame); });
    inputs.catalog = &catalog;
    inputs.backgrounds = &backgrounds;
    std::unique_ptr<Renderer> renderer;
    std::string why;
    mpi.agree([&] { renderer = make_renderer(config.device, inputs, why); });
    if (!why.empty()) log::info("[device] " + why);

    std::unique_ptr<DatasetWriter> writer = output.open(catalog);
    Coordinator coordinator = make_coordinator(config, *writer, inputs.threads, mpi);
    const int64_t to_make = coordinator.remaining();
    if (output.resuming()) output.check_free_space(to_make);
    log_plan(config, to_make, *renderer, mpi);

    const auto rounds_start = Clock::now();
    Progress progress(to_make, options.quiet || !mpi.root());
    ImageMaker maker(config, catalog, backgrounds, *renderer, inputs.threads);
    RunTotals totals = RoundPipeline(mpi, maker, *writer, output, coordinator, progress).run();
    output.complete(std::move(writer));
    progress.finish();
    totals.rounds = seconds_since(rounds_start);
    print_summary(mpi, totals, seconds_since(start));
    log::info("[done] " + std::to_string(totals.made_all) + " images in '" + config.output.path +
              "'");
}

}  // namespace cardsynth
