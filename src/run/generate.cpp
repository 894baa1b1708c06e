#include "run/generate.h"

#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <thread>

#include <omp.h>
#include <opencv2/core.hpp>

#include "base/error.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "dataset/dataset.h"
#include "encode/encode.h"
#include "render/labels.h"
#include "render/render.h"
#include "run/coordinator.h"
#include "run/progress.h"
#include "run/signals.h"
#include "run/worker_thread.h"
#include "scene/background.h"
#include "scene/scene.h"
#include "system/system.h"

namespace fs = std::filesystem;

namespace cardsynth {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds, so that the per-stage breakdown holds on a busy machine.
double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}
double process_cpu() {
    return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
}
double thread_cpu() {
    return cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
}

// A round lasts about this long, so the barrier costs little and a crash loses little.
constexpr double kRoundSeconds = 3.0;
// One rank holds at most this many bytes of images between writes.
constexpr int64_t kRoundBytesBudget = 256ll << 20;
// Declared capacity before any measurement, in images/s per thread whatever the frame size. High
// on purpose: the first round is a short probe that its deadline ends (a slow rank just makes
// fewer), and the memory cap bounds what a rank holds.
constexpr double kNominalRatePerThread = 200.0;

struct StageTimes {
    double sample = 0, render = 0, labels = 0, encode = 0, write = 0;
};

int64_t stored_bytes_per_image(const Config& c) {
    const int64_t px = static_cast<int64_t>(c.frame.width) * c.frame.height;
    int64_t bytes = 0;
    switch (c.output.storage) {
        case Storage::Raw:
            bytes = px * 3;
            break;
        case Storage::Jpeg:
            bytes = px * 3 / 8;
            break;  // quality 90 photos stay well under this
        case Storage::Png:
            bytes = px * 3 * 3 / 4;
            break;
    }
    if (c.output.masks) bytes += px;
    return bytes + c.scene.max_cards * 76 + 24;
}

std::string human_bytes(double b) {
    char buf[64];
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) b /= 1024, ++u;
    std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
    return buf;
}

enum class OutputAction { Create, Resume, AlreadyComplete };

// Rank 0's checks of the output path before anything is created; throws ConfigError.
OutputAction check_output(const Config& c, const GenerateOptions& o) {
    const std::string& out = c.output.path;
    const std::string part = partial_path(out);
    const fs::path dir = fs::absolute(out).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ConfigError("output directory '" + dir.string() + "' does not exist");
    if (access(dir.c_str(), W_OK) != 0)
        throw ConfigError("output directory '" + dir.string() + "' is not writable");
    if (o.resume) {
        if (fs::exists(part, ec)) return OutputAction::Resume;
        if (fs::exists(out, ec)) return OutputAction::AlreadyComplete;
        // A job requeued before it made its file resumes from nothing: start it.
        return OutputAction::Create;
    }
    for (const std::string& p : {out, part})
        if (fs::exists(p, ec) && !c.output.overwrite)
            throw ConfigError("output '" + p + "' already exists; pass --overwrite to replace it" +
                              (p == part ? " or --resume to finish it" : ""));
    return OutputAction::Create;
}

// Free bytes in the output's directory; negative when it cannot be told.
double free_bytes_for(const Config& c, fs::path& dir) {
    dir = fs::absolute(c.output.path).parent_path();
    struct statvfs st {};
    if (statvfs(dir.c_str(), &st) != 0) return -1.0;
    return static_cast<double>(st.f_bavail) * st.f_frsize;
}

void check_free_space(const Config& c, int64_t images) {
    fs::path dir;
    const double free_bytes = free_bytes_for(c, dir);
    if (free_bytes < 0) return;  // cannot tell: a failed write will say
    const double need = static_cast<double>(images) * stored_bytes_per_image(c);
    if (need > free_bytes)
        throw DatasetError("not enough free space in '" + dir.string() + "' for '" + c.output.path +
                           "': need about " + human_bytes(need) + ", have " +
                           human_bytes(free_bytes));
}

// HDF5 reports a full disk as a failed write; say what it most likely is, and what to do.
std::string explain_write_failure(const Config& c, const std::string& what) {
    fs::path dir;
    const double free_bytes = free_bytes_for(c, dir);
    if (free_bytes < 0 || free_bytes > 2.0 * kRoundBytesBudget) return what;
    return what + ": the disk is full (no space left: " + human_bytes(free_bytes) + " free in '" +
           dir.string() + "'); make room, then rerun the same command with --resume";
}

// A test hook, documented as such: CARDSYNTH_TEST_SLOW_RANK=R:F makes rank R take F times as long.
double slow_factor(int rank) {
    const char* v = std::getenv("CARDSYNTH_TEST_SLOW_RANK");
    if (!v) return 1.0;
    int r = -1;
    double f = 1.0;
    if (std::sscanf(v, "%d:%lf", &r, &f) == 2 && r == rank && f > 1.0) return f;
    return 1.0;
}

void print_system(const MpiContext& mpi, int cores, int threads, const GpuProbe& gpus) {
    const std::string mine = mpi.host() + "\t" + std::to_string(cores) + "\t" +
                             std::to_string(threads) + "\t" + gpu_line(gpus);
    const auto all = mpi.gather_strings(mine);
    if (!mpi.root()) return;
    struct Node {
        std::string host, gpu;
        int cores = 0, ranks = 0;
        std::vector<int> threads;
    };
    std::vector<Node> nodes;
    for (const std::string& s : all) {
        const size_t a = s.find('\t'), b = s.find('\t', a + 1), d = s.find('\t', b + 1);
        Node n{s.substr(0, a), s.substr(d + 1), std::stoi(s.substr(a + 1, b - a - 1)), 0, {}};
        auto it = std::find_if(nodes.begin(), nodes.end(),
                               [&](const Node& x) { return x.host == n.host; });
        if (it == nodes.end()) nodes.push_back(n), it = nodes.end() - 1;
        it->ranks++;
        it->threads.push_back(std::stoi(s.substr(b + 1, d - b - 1)));
    }
    for (const Node& n : nodes) {
        std::string t;
        for (size_t i = 0; i < n.threads.size(); ++i)
            t += (i ? "," : "") + std::to_string(n.threads[i]);
        if (nodes.size() == 1) {
            log::info(n.gpu);
            log::info(cores_line(n.cores));
            log::info("[system] " + n.host + ": " + std::to_string(n.ranks) +
                      " rank(s), threads per rank: " + t);
        } else {
            log::info("[system] " + n.host + ": " + n.gpu.substr(9) + "; " +
                      cores_line(n.cores).substr(9) + "; " + std::to_string(n.ranks) +
                      " rank(s), threads per rank: " + t);
        }
    }
}

// Fills slot k of image j in `rd` from its labels; slots past the count keep their padding.
void store_labels(const ImageLabels& labels, int64_t j, int M, RoundData& rd) {
    const int n = std::min<int>(M, static_cast<int>(labels.cards.size()));
    rd.count[j] = static_cast<uint16_t>(n);
    for (int k = 0; k < n; ++k) {
        const CardLabel& l = labels.cards[k];
        const int64_t s = j * M + k;
        rd.card_id[s] = l.card_id;
        std::copy(l.corners.begin(), l.corners.end(), rd.corners.begin() + s * 8);
        std::copy(l.corner_visible.begin(), l.corner_visible.end(),
                  rd.corner_visible.begin() + s * 4);
        std::copy(l.bbox.begin(), l.bbox.end(), rd.bbox.begin() + s * 4);
        std::copy(l.bbox_full.begin(), l.bbox_full.end(), rd.bbox_full.begin() + s * 4);
        rd.visible_fraction[s] = l.visible_fraction;
    }
}

void reset_round(RoundData& rd, IndexRange range, const Config& c) {
    const int64_t n = range.size();
    const int M = c.scene.max_cards;
    const int64_t px = static_cast<int64_t>(c.frame.width) * c.frame.height;
    rd.begin = range.begin;
    rd.end = range.end;
    rd.raw.resize(c.output.storage == Storage::Raw ? n * px * 3 : 0);
    // Resized, not cleared: each image's vector keeps its capacity from the round before, so
    // encoding a frame writes into memory that is already mapped.
    rd.encoded.resize(c.output.storage == Storage::Raw ? 0 : n);
    rd.count.assign(n, 0);
    rd.card_id.assign(n * M, -1);
    rd.corners.assign(n * M * 8, 0.0f);
    rd.corner_visible.assign(n * M * 4, 0);
    rd.bbox.assign(n * M * 4, 0.0f);
    rd.bbox_full.assign(n * M * 4, 0.0f);
    rd.visible_fraction.assign(n * M, 0.0f);
    rd.masks.resize(c.output.masks ? n * px : 0);
}

// Image j of the round (index range.begin + j): labels into `rd`, and the mask.
void keep_labels(const Config& c, const SceneSpec& scene, const Frame& frame, int64_t j,
                 RoundData& rd) {
    store_labels(compute_labels(scene, frame.ids), j, c.scene.max_cards, rd);
    if (c.output.masks) {
        const size_t px = static_cast<size_t>(c.frame.width) * c.frame.height;
        std::copy(frame.ids.data, frame.ids.data + px, rd.masks.begin() + j * px);
    }
}

void keep_pixels(const Config& c, const Frame& frame, int64_t j, RoundData& rd) {
    if (c.output.storage == Storage::Raw) {
        const size_t bytes = static_cast<size_t>(c.frame.width) * c.frame.height * 3;
        std::copy(frame.rgb.data, frame.rgb.data + bytes, rd.raw.begin() + j * bytes);
    } else {
        encode_image(frame.rgb, c.output.storage, c.output.jpeg_quality, rd.encoded[j]);
    }
}

// What a rank does in one round: its range, the time by which it must stop starting images,
// and the test hook's slow-down.
struct RoundPlan {
    IndexRange range;
    Clock::time_point deadline;
    double slow = 1.0;
};

// CARDSYNTH_TEST_SLOW_RANK: this image took `slow` times as long.
void slow_down(double slow, Clock::time_point image_start) {
    if (slow > 1.0)
        std::this_thread::sleep_for(
            std::chrono::duration<double>(seconds_since(image_start) * (slow - 1.0)));
}

// A renderer that draws on the calling thread: each thread takes an image from scene to stored
// bytes in its own frame, so no thread waits for another inside a round. Returns how many
// images of the range, from its start, were made before the deadline.
int64_t make_images_per_thread(const Config& c, const Catalog& catalog,
                               const Backgrounds& backgrounds, Renderer& renderer, int threads,
                               const RoundPlan& plan, RoundData& rd, StageTimes& t) {
    const int64_t n = plan.range.size();
    std::vector<std::string> errors(static_cast<size_t>(n));
    // The first image not started by the deadline; the dynamic schedule hands images out in
    // order, so every image before it is made.
    std::atomic<int64_t> stop{n};
    double sample_s = 0, render_s = 0, labels_s = 0, encode_s = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sample_s, render_s, labels_s, encode_s)
    {
        static thread_local Frame frame;
#pragma omp for schedule(dynamic, 1)
        for (int64_t j = 0; j < n; ++j) {
            if (j >= stop.load(std::memory_order_relaxed)) continue;
            const auto start = Clock::now();
            // The first image is always made, so that every round makes progress. A stop signal
            // ends the round as the deadline does, so the run stops within an image's time.
            if (j > 0 && (start >= plan.deadline || stop_signal() != 0)) {
                int64_t s = stop.load();
                while (j < s && !stop.compare_exchange_weak(s, j)) {
                }
                continue;
            }
            try {
                double t0 = thread_cpu();
                const SceneSpec scene = compose(c, catalog, backgrounds, plan.range.begin + j);
                double t1 = thread_cpu();
                sample_s += t1 - t0;
                renderer.render_one(scene, frame);
                t0 = thread_cpu();
                render_s += t0 - t1;
                keep_labels(c, scene, frame, j, rd);
                t1 = thread_cpu();
                labels_s += t1 - t0;
                keep_pixels(c, frame, j, rd);
                encode_s += thread_cpu() - t1;
            } catch (const std::exception& e) {
                errors[j] = e.what();
            }
            slow_down(plan.slow, start);
        }
    }
    t.sample += sample_s;
    t.render += render_s;
    t.labels += labels_s;
    t.encode += encode_s;
    for (const std::string& e : errors)
        if (!e.empty()) throw Error(e);
    return stop.load();
}

// A batch renderer (CUDA): scenes for a few images per thread, one render() call, then labels
// and encoding in parallel; the deadline is checked between batches.
int64_t make_images_batched(const Config& c, const Catalog& catalog, const Backgrounds& backgrounds,
                            Renderer& renderer, int threads, const RoundPlan& plan, RoundData& rd,
                            StageTimes& t) {
    const int64_t batch = std::max(2, 2 * threads);
    const IndexRange range = plan.range;
    std::vector<SceneSpec> scenes;
    std::vector<Frame> frames;
    int64_t b = range.begin;
    for (; b < range.end &&
           (b == range.begin || (Clock::now() < plan.deadline && stop_signal() == 0));
         b += batch) {
        const auto start = Clock::now();
        const int m = static_cast<int>(std::min(batch, range.end - b));
        scenes.resize(m);
        double t0 = process_cpu();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int i = 0; i < m; ++i) scenes[i] = compose(c, catalog, backgrounds, b + i);
        t.sample += process_cpu() - t0;
        t0 = process_cpu();
        renderer.render(scenes, frames);
        t.render += process_cpu() - t0;
        double labels_s = 0, encode_s = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(+ : labels_s, encode_s)
        for (int i = 0; i < m; ++i) {
            const int64_t j = b + i - range.begin;
            double s0 = thread_cpu();
            keep_labels(c, scenes[i], frames[i], j, rd);
            labels_s += thread_cpu() - s0;
            s0 = thread_cpu();
            keep_pixels(c, frames[i], j, rd);
            encode_s += thread_cpu() - s0;
        }
        t.labels += labels_s;
        t.encode += encode_s;
        slow_down(plan.slow, start);
    }
    return std::min(b, range.end) - range.begin;
}

// Keeps the first `made` images of the round.
void truncate_round(RoundData& rd, int64_t made, const Config& c) {
    if (made >= rd.images()) return;
    const size_t k = static_cast<size_t>(made), M = static_cast<size_t>(c.scene.max_cards);
    const size_t px = static_cast<size_t>(c.frame.width) * c.frame.height;
    rd.end = rd.begin + made;
    if (!rd.raw.empty()) rd.raw.resize(k * px * 3);
    if (!rd.encoded.empty()) rd.encoded.resize(k);
    if (!rd.masks.empty()) rd.masks.resize(k * px);
    rd.count.resize(k);
    rd.card_id.resize(k * M);
    rd.corners.resize(k * M * 8);
    rd.corner_visible.resize(k * M * 4);
    rd.bbox.resize(k * M * 4);
    rd.bbox_full.resize(k * M * 4);
    rd.visible_fraction.resize(k * M);
}

// Makes the images of the round's range that it can before the deadline into `rd`, a prefix.
void make_images(const Config& c, const Catalog& catalog, const Backgrounds& backgrounds,
                 Renderer& renderer, int threads, const RoundPlan& plan, RoundData& rd,
                 StageTimes& t) {
    reset_round(rd, plan.range, c);
    const int64_t made =
        renderer.renders_per_thread()
            ? make_images_per_thread(c, catalog, backgrounds, renderer, threads, plan, rd, t)
            : make_images_batched(c, catalog, backgrounds, renderer, threads, plan, rd, t);
    truncate_round(rd, made, c);
}

// The cores of this node that its ranks may use: the union of their affinity masks (mpirun may
// bind each rank to one core), capped by the cgroup quota that available_cores() applies.
int node_core_count(const MpiContext& mpi, int my_cores) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<uint64_t> mask(CPU_SETSIZE / 64, 0);
    int own = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) mask[c / 64] |= 1ull << (c % 64), ++own;
    const auto all = mpi.node_or(mask);
    int node = 0;
    for (uint64_t w : all) node += __builtin_popcountll(w);
    // A quota below the affinity count caps the node too.
    if (own > 0 && my_cores < own) node = std::min(node, my_cores * mpi.local_size());
    return std::max(1, node);
}

}  // namespace

std::string partial_path(const std::string& path) {
    return path + ".partial";
}

void run_generate(const Config& config, const GenerateOptions& options, const MpiContext& mpi) {
    const auto start = Clock::now();
    // Frames, card images and round buffers are a few hundred KiB to a few hundred MiB, made and
    // freed all run long: kept in the heap instead of mapped and unmapped each time, they cost
    // no page faults the second time round.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    install_stop_signals();
    mpi.agree([&] { validate(config); });

    // The output first: a bad path fails before any work.
    int action = 0;
    mpi.agree([&] {
        if (mpi.root()) action = static_cast<int>(check_output(config, options));
    });
    MPI_Bcast(&action, 1, MPI_INT, 0, mpi.comm());
    if (action == static_cast<int>(OutputAction::AlreadyComplete)) {
        log::info("[output] '" + config.output.path + "' is already complete; nothing to resume");
        return;
    }
    const bool resume = action == static_cast<int>(OutputAction::Resume);
    if (options.resume && !resume)
        log::info("[output] no '" + partial_path(config.output.path) + "' to resume: starting it");

    // This rank's resources.
    const int cores = available_cores();
    const char* omp_env = std::getenv("OMP_NUM_THREADS");
    const int node_cores = node_core_count(mpi, cores);
    const int threads = choose_threads(config.threads, node_cores, mpi.local_size(),
                                       options.threads_flag ? "" : (omp_env ? omp_env : ""));
    // Every parallel loop of this rank, start-up included (card checks, playmats), uses its share
    // of the node; OpenCV's own pool would only add threads on the same cores.
    omp_set_num_threads(threads);
    cv::setNumThreads(1);
    const GpuProbe gpus = probe_gpus();
    print_system(mpi, cores, threads, gpus);

    Catalog catalog;
    mpi.agree([&] { catalog = Catalog::load(config.cards); });
    for (const std::string& line : catalog.report_lines()) log::info(line);
    Backgrounds backgrounds;
    mpi.agree([&] { backgrounds = Backgrounds::load(config.backgrounds, config.frame); });

    RenderInputs inputs;
    inputs.config = &config;
    inputs.catalog = &catalog;
    inputs.backgrounds = &backgrounds;
    inputs.threads = threads;
    inputs.gpu = gpus.gpus.empty() ? 0 : mpi.local_rank() % static_cast<int>(gpus.gpus.size());
    inputs.cache_bytes = static_cast<size_t>(config.cache_mb) << 20;
    std::unique_ptr<Renderer> renderer;
    std::string why;
    mpi.agree([&] { renderer = make_renderer(config.device, inputs, why); });
    if (!why.empty()) log::info("[device] " + why);

    // The file: created at full size, or reopened to finish.
    const std::string part = partial_path(config.output.path);
    std::unique_ptr<DatasetWriter> writer;
    if (resume) {
        mpi.agree([&] { writer = DatasetWriter::open(mpi.comm(), part); });
        mpi.agree([&] {
            Config stored;
            apply_yaml(stored, writer->header().config_yaml, part + ":/config");
            const std::string key = first_content_difference(stored, config);
            if (!key.empty())
                throw ConfigError(
                    "--resume: '" + key + "' differs from the configuration stored in '" + part +
                    "'; resume with the same settings or start over with --overwrite");
            if (static_cast<size_t>(writer->header().max_cards) !=
                static_cast<size_t>(config.scene.max_cards))
                throw ConfigError("--resume: 'scene.max_cards' differs from '" + part + "'");
        });
    } else {
        mpi.agree([&] {
            if (!mpi.root()) return;
            std::error_code ec;
            fs::remove(config.output.path, ec);
            fs::remove(part, ec);
        });
        DatasetHeader header;
        header.seed = config.seed;
        header.num_images = config.num_images;
        header.width = config.frame.width;
        header.height = config.frame.height;
        header.max_cards = config.scene.max_cards;
        header.storage = config.output.storage;
        header.masks = config.output.masks;
        header.config_yaml = to_yaml(config);
        header.generator_version = std::string("cardsynth ") + CARDSYNTH_VERSION;
        CardTable table;
        for (const Card& c : catalog.cards()) {
            table.names.push_back(c.name);
            table.sources.push_back(c.source);
            table.ranks.push_back(c.rank);
            table.weights.push_back(c.probability);
        }
        mpi.agree([&] {
            if (mpi.root()) check_free_space(config, config.num_images);
        });
        // Made under a third name and renamed once created and flushed: a crash while HDF5
        // writes the first metadata must not leave an OUT.partial that cannot be reopened.
        const std::string creating = part + ".new";
        mpi.agree([&] {
            if (!mpi.root()) return;
            std::error_code ec;
            fs::remove(creating, ec);
        });
        mpi.agree([&] {
            writer = DatasetWriter::create(mpi.comm(), creating, header, table);
            writer->close();
        });
        mpi.agree([&] {
            if (!mpi.root()) return;
            std::error_code ec;
            fs::rename(creating, part, ec);
            if (ec)
                throw DatasetError("cannot rename '" + creating + "' to '" + part +
                                   "': " + ec.message());
        });
        mpi.agree([&] { writer = DatasetWriter::open(mpi.comm(), part); });
    }

    std::vector<uint8_t> done;
    mpi.agree([&] { done = writer->read_done(); });
    // Declared capacity: a guess per thread, whatever the frame size; the probe round's deadline
    // makes it harmless.
    const auto capacity = mpi.allgather(threads * kNominalRatePerThread);
    const int64_t per_image = std::max<int64_t>(1, stored_bytes_per_image(config));
    Coordinator coordinator(done, capacity, kRoundSeconds,
                            std::max<int64_t>(4, kRoundBytesBudget / per_image));
    const int64_t to_make = coordinator.remaining();
    if (resume)
        mpi.agree([&] {
            if (mpi.root()) check_free_space(config, to_make);
        });
    log::info("[plan] " + std::to_string(config.num_images) + " images, " +
              std::to_string(to_make) + " to make, " + std::to_string(mpi.size()) +
              " rank(s), storage " + to_string(config.output.storage) + ", renderer " +
              renderer->name() + ", output '" + config.output.path + "'");

    const double slow = slow_factor(mpi.rank());
    Progress progress(to_make, options.quiet || !mpi.root());
    const auto rounds_start = Clock::now();
    StageTimes times;
    // Round k renders on the worker thread into one RoundData while the main thread writes
    // round k - 1 from the other, so the cores stay busy while HDF5 writes.
    RoundData rds[2];
    int cur = 0;           // rds[cur] is the one the next round renders into
    bool pending = false;  // rds[1 - cur] holds a rendered round not written yet
    WorkerThread worker;
    const auto write_pending = [&] {
        if (!pending) return;
        pending = false;
        const double w0 = thread_cpu();
        mpi.agree([&] {
            try {
                writer->write_round(rds[1 - cur]);
            } catch (const DatasetError& e) {
                throw DatasetError(explain_write_failure(config, e.what()));
            }
        });
        times.write += thread_cpu() - w0;
    };
    int64_t made_total = 0, mine_total = 0;
    double busy_total = 0;
    // Per rank: begin and end of its range; then the round's deadline in microseconds.
    std::vector<int64_t> range_buf(2 * mpi.size() + 1);
    while (true) {
        // All ranks stop together at a round boundary when any of them got a signal.
        int finished = coordinator.finished() ? 1 : 0;
        MPI_Bcast(&finished, 1, MPI_INT, 0, mpi.comm());
        if (finished) break;
        if (mpi.any(stop_signal() != 0)) {
            write_pending();
            writer->close();
            throw Interrupted(std::string("stopped by ") + signal_name(stop_signal()) + " after " +
                              std::to_string(made_total) + " images; '" + part +
                              "' is resumable: rerun the same command with --resume");
        }
        if (mpi.root()) {
            const auto ranges = coordinator.next_round();
            for (int r = 0; r < mpi.size(); ++r)
                range_buf[2 * r] = ranges[r].begin, range_buf[2 * r + 1] = ranges[r].end;
            range_buf.back() = std::llround(coordinator.round_seconds() * 1e6);
        }
        MPI_Bcast(range_buf.data(), static_cast<int>(range_buf.size()), MPI_INT64_T, 0, mpi.comm());
        RoundPlan plan;
        plan.range = {range_buf[2 * mpi.rank()], range_buf[2 * mpi.rank() + 1]};
        plan.slow = slow;
        // Busy time is this rank's own rendering, measured on the worker.
        double busy = 0;
        RoundData& rd = rds[cur];
        worker.start([&] {
            const auto t0 = Clock::now();
            plan.deadline = t0 + std::chrono::microseconds(range_buf.back());
            make_images(config, catalog, backgrounds, *renderer, threads, plan, rd, times);
            busy = seconds_since(t0);
        });
        try {
            write_pending();
        } catch (...) {
            // Every rank throws the write's error; what the round did no longer matters.
            try {
                worker.wait();
            } catch (...) {
            }
            throw;
        }
        mpi.agree([&] { worker.wait(); });
        const int64_t made = rd.images();
        cur = 1 - cur;
        pending = true;
        const auto busy_all = mpi.allgather(busy);
        const auto images_all = mpi.allgather(static_cast<double>(made));
        std::vector<int64_t> images(mpi.size());
        for (int r = 0; r < mpi.size(); ++r) images[r] = static_cast<int64_t>(images_all[r]);
        if (mpi.root()) coordinator.report(images, busy_all);
        for (int64_t n : images) made_total += n;
        mine_total += made;
        busy_total += busy;
        progress.update(made_total);
    }
    write_pending();
    mpi.agree([&] { writer->finish(); });
    writer.reset();
    mpi.agree([&] {
        if (!mpi.root()) return;
        std::error_code ec;
        fs::rename(part, config.output.path, ec);
        if (ec)
            throw DatasetError("cannot rename '" + part + "' to '" + config.output.path +
                               "': " + ec.message());
    });
    progress.finish();

    // The summary: per rank, then totals and the per-stage CPU time per image.
    const double wall = seconds_since(start);
    const double rounds_wall = seconds_since(rounds_start);
    const auto hosts = mpi.gather_strings(mpi.host());
    const auto busy_all = mpi.allgather(busy_total);
    const auto mine_all = mpi.allgather(static_cast<double>(mine_total));
    double stage[5] = {times.sample, times.render, times.labels, times.encode, times.write};
    double stage_sum[5] = {0, 0, 0, 0, 0};
    MPI_Reduce(stage, stage_sum, 5, MPI_DOUBLE, MPI_SUM, 0, mpi.comm());
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mb = ru.ru_maxrss / 1024.0;
    double rss_max = 0;
    MPI_Reduce(&rss_mb, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, mpi.comm());
    if (!mpi.root()) return;
    char line[256];
    log::info("[summary] rank  host                  images  images/s  busy s");
    double max_busy = 0;
    for (int r = 0; r < mpi.size(); ++r) {
        max_busy = std::max(max_busy, busy_all[r]);
        std::snprintf(line, sizeof line, "[summary] %4d  %-20.20s %7.0f  %8.1f  %6.1f", r,
                      hosts[r].c_str(), mine_all[r],
                      busy_all[r] > 0 ? mine_all[r] / busy_all[r] : 0.0, busy_all[r]);
        log::info(line);
    }
    std::snprintf(
        line, sizeof line,
        "[summary] total %lld images in %.2f s: %.1f images/s; start-up %.2f s, rounds %.2f s; "
        "coordinator overhead %.1f%% ((rounds - max busy) / rounds)",
        static_cast<long long>(made_total), wall, wall > 0 ? made_total / wall : 0.0,
        wall - rounds_wall, rounds_wall,
        rounds_wall > 0 ? 100.0 * (rounds_wall - max_busy) / rounds_wall : 0.0);
    log::info(line);
    if (made_total > 0) {
        const double k = 1000.0 / made_total;
        std::snprintf(
            line, sizeof line,
            "[timing] CPU ms per image: sample %.2f, render %.2f, labels %.2f, encode %.2f, "
            "write %.2f; peak RSS %.0f MB",
            stage_sum[0] * k, stage_sum[1] * k, stage_sum[2] * k, stage_sum[3] * k,
            stage_sum[4] * k, rss_max);
        log::info(line);
    }
    log::info("[done] " + std::to_string(made_total) + " images in '" + config.output.path + "'");
}

}  // namespace cardsynth
