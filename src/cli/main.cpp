// The cardsynth command line: info, generate, preview, inspect, export. Errors are exceptions
// inside; here they become one line on stderr and an exit code (under MPI, every rank agrees on
// it).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include "base/error.h"
#include "base/log.h"
#include "base/text.h"
#include "commands/inspect.h"
#include "commands/preview.h"
#include "config/config.h"
#include "export/export.h"
#include "export/formats.h"
#include "mpi/mpi_context.h"
#include "run/generate.h"
#include "run/output_file.h"
#include "system/system.h"

using namespace cardsynth;

namespace {

// Flags of `generate`, each overriding its configuration key when given.
struct GenerateFlags {
    std::string config_file;
    std::vector<std::string> sets;
    std::string threads, device, out, storage, scene, popularity, backgrounds;
    std::vector<std::string> card_dirs;
    int64_t num_images = 0, cache_mb = 0;
    uint64_t seed = 0;
    int jpeg_quality = 0, width = 0, height = 0, popularity_min = 0, popularity_max = -1;
    int min_cards = -1, max_cards = -1;
    double dampening = 0;
    bool masks = false, overwrite = false, resume = false, strict = false, quiet = false;
    bool use_popularity_weights = false;
};

void add_generate_flags(CLI::App& app, GenerateFlags& f) {
    app.add_option("--config", f.config_file,
                   "YAML configuration file (configs/default.yaml lists every key)")
        ->check(CLI::ExistingFile);
    app.add_option("--set", f.sets,
                   "Override any key: KEY=VALUE, KEY a dotted path, VALUE YAML "
                   "(--set scene.blur_sigma=[0,1.5]); repeatable, applied last");
    app.add_option("-n,--num-images", f.num_images, "Images to generate (num_images)");
    app.add_option("--seed", f.seed, "Seed of every random draw (seed)");
    app.add_option("--threads", f.threads,
                   "auto (node cores / ranks on the node; OMP_NUM_THREADS when set), conservative "
                   "(the legacy scripts' table, leaving room for training), or N (threads)");
    app.add_option("--device", f.device, "auto | cpu | cuda (device)");
    app.add_option("-o,--out", f.out,
                   "Output HDF5 file (output.path); written as OUT.partial until complete");
    app.add_option("--storage", f.storage, "raw | jpeg | png (output.storage)");
    app.add_option("--jpeg-quality", f.jpeg_quality, "JPEG quality 1..100 (output.jpeg_quality)");
    app.add_flag("--masks", f.masks, "Also write /masks, the per-pixel card slot (output.masks)");
    app.add_flag("--overwrite", f.overwrite, "Replace an existing output (output.overwrite)");
    app.add_flag("--resume", f.resume, "Finish OUT.partial: make only the images whose /done is 0");
    app.add_flag("--strict", f.strict,
                 "A bad card file or a card without popularity is an error (cards.strict)");
    app.add_option("--width", f.width, "Frame width in pixels (frame.width)");
    app.add_option("--height", f.height, "Frame height in pixels (frame.height)");
    app.add_option("--card-dirs", f.card_dirs,
                   "Card image directories, searched recursively "
                   "(cards.dirs); none = the built-in deck");
    app.add_option("--popularity", f.popularity,
                   "Popularity CSV or Scryfall-style JSON (cards.popularity)");
    app.add_flag("--use-popularity-weights", f.use_popularity_weights,
                 "Draw cards by popularity instead of uniformly (cards.use_popularity_weights)");
    app.add_option("--popularity-min", f.popularity_min,
                   "Keep cards ranked at least this (cards.popularity_min)");
    app.add_option("--popularity-max", f.popularity_max,
                   "Keep cards ranked at most this; 0 = no bound (cards.popularity_max)");
    app.add_option("--dampening", f.dampening,
                   "Sampling weight = base^P (cards.weight_dampening_power)");
    app.add_option("--backgrounds", f.backgrounds,
                   "Playmat image directory (backgrounds.dir); none = built-in playmats");
    app.add_option("--scene", f.scene, "random | table (scene.kind)");
    app.add_option("--min-cards", f.min_cards, "Fewest cards per image (scene.min_cards)");
    app.add_option("--max-cards", f.max_cards,
                   "Most cards per image, and label slots M (scene.max_cards)");
    app.add_option("--cache-mb", f.cache_mb,
                   "Card texture cache budget per rank in MiB (cache_mb)");
    app.add_flag("--quiet", f.quiet, "No progress lines");
}

// The configuration file is an input the config keys cannot name, so the output checks of the run
// (which compare every input by device and inode) cannot see it: refuse it here, before anything
// is written, so that --overwrite cannot delete it.
void check_config_not_output(const std::string& config_file, const std::string& out) {
    struct stat c {};
    if (config_file.empty() || stat(config_file.c_str(), &c) != 0) return;
    for (const std::string& p : {out, partial_path(out)}) {
        struct stat o {};
        if (stat(p.c_str(), &o) == 0 && o.st_dev == c.st_dev && o.st_ino == c.st_ino)
            throw ConfigError("output '" + p + "' is the configuration file of this run ('" +
                              config_file + "'); nothing was written");
    }
}

Config resolve(const CLI::App& app, const GenerateFlags& f) {
    Config c;
    if (!f.config_file.empty()) apply_yaml_file(c, f.config_file);
    auto given = [&](const char* name) { return app.count(name) > 0; };
    if (given("--num-images")) c.num_images = f.num_images;
    if (given("--seed")) c.seed = f.seed;
    if (given("--threads")) c.threads = parse_thread_setting(f.threads, "--threads");
    if (given("--device")) c.device = parse_device(f.device, "--device");
    if (given("--out")) c.output.path = f.out;
    if (given("--storage")) c.output.storage = parse_storage(f.storage, "--storage");
    if (given("--jpeg-quality")) c.output.jpeg_quality = f.jpeg_quality;
    if (f.masks) c.output.masks = true;
    if (f.overwrite) c.output.overwrite = true;
    if (f.strict) c.cards.strict = true;
    if (given("--width")) c.frame.width = f.width;
    if (given("--height")) c.frame.height = f.height;
    if (given("--card-dirs")) c.cards.dirs = f.card_dirs;
    if (given("--popularity")) c.cards.popularity = f.popularity;
    if (f.use_popularity_weights) c.cards.use_popularity_weights = true;
    if (given("--popularity-min")) c.cards.popularity_min = f.popularity_min;
    if (given("--popularity-max")) c.cards.popularity_max = f.popularity_max;
    if (given("--dampening")) c.cards.weight_dampening_power = f.dampening;
    if (given("--backgrounds")) c.backgrounds.dir = f.backgrounds;
    if (given("--scene")) {
        if (f.scene != "random" && f.scene != "table")
            throw ConfigError("--scene: expected random or table, got '" + f.scene + "'");
        c.scene.kind = f.scene == "table" ? SceneKind::Table : SceneKind::Random;
    }
    if (given("--min-cards")) c.scene.min_cards = f.min_cards;
    if (given("--max-cards")) c.scene.max_cards = f.max_cards;
    if (given("--cache-mb")) c.cache_mb = f.cache_mb;
    for (const std::string& s : f.sets) apply_set(c, s);
    validate(c);
    check_config_not_output(f.config_file, c.output.path);
    return c;
}

void print_info(const std::string& threads_text) {
    const int cores = available_cores();
    const GpuProbe gpus = probe_gpus();
    log::info(gpu_line(gpus));
    for (size_t i = 0; i < gpus.gpus.size(); ++i) {
        log::info(format("[system] GPU %zu: %s, %.1f GiB", i, gpus.gpus[i].name.c_str(),
                         static_cast<double>(gpus.gpus[i].memory_bytes) / (1 << 30)));
    }
    if (gpus.gpus.empty() && !gpus.note.empty()) log::info("[system] (" + gpus.note + ")");
    log::info(cores_line(cores));
    const char* omp = std::getenv("OMP_NUM_THREADS");
    const std::string omp_env = omp ? omp : "";
    log::info("[threads] auto: " +
              std::to_string(choose_threads({ThreadMode::Auto, 0}, cores, 1, omp_env)) +
              (omp_env.empty() ? "" : " (OMP_NUM_THREADS=" + omp_env + ")"));
    log::info("[threads] conservative: " +
              std::to_string(choose_threads({ThreadMode::Conservative, 0}, cores, 1, "")));
    if (!threads_text.empty()) {
        const ThreadSetting t = parse_thread_setting(threads_text, "--threads");
        log::info("[threads] --threads " + threads_text + ": " +
                  std::to_string(choose_threads(t, cores, 1, omp_env)));
    }
}

// The subcommands and the variables their options fill.
struct CommandLine {
    CLI::App app{
        "cardsynth: synthetic training data for trading-card detectors.\n"
        "Composites cards onto playmats and writes every frame with exact labels into\n"
        "one HDF5 file (docs/FORMAT.md). Runs alone, under mpirun, or under SLURM.",
        "cardsynth"};
    std::string info_threads;
    GenerateFlags gf;
    std::string preview_file, preview_out = "preview.png";
    int preview_count = 6;
    int64_t preview_start = 0;
    std::string inspect_file;
    ExportOptions ex;
    CLI::App *info = nullptr, *gen = nullptr, *prev = nullptr, *insp = nullptr, *exp = nullptr;

    CommandLine() {
        app.set_version_flag("--version", std::string("cardsynth ") + CARDSYNTH_VERSION);
        app.require_subcommand(1);
        info = app.add_subcommand(
            "info",
            "Print the cores and GPUs this process may use and the thread count of each policy");
        info->add_option("--threads", info_threads, "Also show what this setting gives");
        gen = app.add_subcommand(
            "generate", "Generate a dataset (precedence: defaults < --config < flags < --set)");
        add_generate_flags(*gen, gf);
        prev = app.add_subcommand("preview", "Draw a contact sheet of images with their labels");
        prev->add_option("FILE", preview_file, "Dataset file")->required();
        prev->add_option("--out", preview_out, "PNG to write")->capture_default_str();
        prev->add_option("--count", preview_count, "Images on the sheet")
            ->capture_default_str()
            ->check(CLI::Range(1, 64));
        prev->add_option("--start", preview_start, "First image index")->capture_default_str();
        insp = app.add_subcommand(
            "inspect", "Describe a dataset: schema, counts, storage, completion, popularity");
        insp->add_option("FILE", inspect_file, "Dataset file")->required();
        exp = app.add_subcommand("export",
                                 "Write a finished dataset as YOLO or COCO training directories");
        add_export_options(*exp, ex);
    }

    static void add_export_options(CLI::App& app, ExportOptions& o) {
        app.add_option("FILE", o.file, "Dataset file (complete)")->required();
        app.add_option("--format", o.format, "One of: " + formats_help())->required();
        app.add_option("--out", o.out, "Output directory")->required();
        app.add_option("--split", o.split,
                       "NAME=FRACTION,... from train, val, test; fractions sum to 1")
            ->capture_default_str();
        app.add_option("--classes", o.classes, "card (one class) or name (one per catalog card)")
            ->capture_default_str();
        app.add_option(
            "--min-visible", o.min_visible,
            "Leave out cards seen less than this (default: the file's scene.min_visible)");
        app.add_option("--threads", o.threads, "auto (the usable cores) or N")
            ->capture_default_str();
        app.add_option("--jpeg-quality", o.jpeg_quality, "JPEG quality of raw frames, 1..100")
            ->capture_default_str();
        app.add_flag("--overwrite", o.overwrite, "Replace an earlier export in a non-empty --out");
        app.add_flag("--quiet", o.quiet, "No progress lines");
    }
};

// The rank a launcher (mpirun, srun) gave this process; 0 when it was started alone.
int launcher_rank() {
    for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
        const char* value = std::getenv(name);
        if (value != nullptr && *value != '\0') return std::atoi(value);
    }
    return 0;
}

// The commands that read or write files in one process: no MPI, whose start-up alone costs
// about half a second; under a launcher, only rank 0 runs them.
int run_file_command(const CommandLine& cl) {
    if (!log::is_speaker()) return kExitOk;
    if (*cl.info) {
        print_info(cl.info_threads);
    } else if (*cl.prev) {
        const int n =
            write_preview(cl.preview_file, cl.preview_out, cl.preview_count, cl.preview_start);
        log::info("[preview] " + std::to_string(n) + " images with their labels in '" +
                  cl.preview_out + "'");
    } else if (*cl.insp) {
        for (const std::string& line : inspect_dataset(cl.inspect_file)) log::info(line);
    } else if (*cl.exp) {
        run_export(cl.ex);
    }
    return kExitOk;
}

// `generate`, on every rank of the job.
int run_generate_command(const CommandLine& cl, const MpiContext& mpi) {
    Config config;
    mpi.agree([&] { config = resolve(*cl.gen, cl.gf); });
    GenerateOptions options;
    options.resume = cl.gf.resume;
    options.quiet = cl.gf.quiet;
    options.threads_flag = cl.gen->count("--threads") > 0;
    run_generate(config, options, mpi);
    return kExitOk;
}

// Runs `body`, turning what it throws into the one error line (on rank 0 only, once MPI says
// which rank this is) and the exit code of its kind.
template <typename Body>
int exit_code_of(Body&& body) {
    const auto report = [](const char* what, int code) {
        if (log::is_speaker()) std::fprintf(stderr, "cardsynth: error: %s\n", what);
        return code;
    };
    try {
        return body();
    } catch (const Error& e) {
        return report(e.what(), e.exit_code());
    } catch (const std::exception& e) {
        return report(e.what(), kExitFailure);
    } catch (...) {
        return report("unknown exception", kExitFailure);
    }
}

}  // namespace

int main(int argc, char** argv) {
    log::set_speaker(launcher_rank() == 0);
    CommandLine cl;
    try {
        cl.app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = log::is_speaker() ? cl.app.exit(e) : e.get_exit_code();
        return code == 0 ? kExitOk : kExitUsage;
    }
    if (!*cl.gen) return exit_code_of([&] { return run_file_command(cl); });
    // Nested so that a failed MPI start-up is reported too, and a run's error is printed before
    // MPI_Finalize, which waits for the other ranks.
    return exit_code_of([&] {
        MpiSession session(&argc, &argv);
        return exit_code_of([&] {
            MpiContext mpi;
            log::set_speaker(mpi.root());
            return run_generate_command(cl, mpi);
        });
    });
}
