#include "export/export.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "base/error.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/progress.h"
#include "base/text.h"
#include "config/config.h"
#include "dataset/dataset_reader.h"
#include "dataset/slab_reader.h"
#include "encode/encode.h"
#include "export/formats.h"
#include "export/split.h"
#include "system/system.h"

namespace cardsynth {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSlabBudget = int64_t{128} << 20;  // bytes of images and masks read at once

// Everything the export needs, checked before anything is written.
struct ExportJob {
    ExportOptions options;
    const ExportFormat* format = nullptr;
    SplitSpec splits;
    bool class_per_card = false;
    double min_visible = 0;
    int threads = 1;
    std::unique_ptr<DatasetReader> reader;
    std::string extension;  // of the image files
    fs::path out;
};

int parse_threads(const std::string& text) {
    if (text == "auto") return available_cores();
    char* end = nullptr;
    const long n = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n < 1 || n > 4096)
        throw ConfigError("--threads: expected auto or a count from 1, got '" + text + "'");
    return static_cast<int>(n);
}

void check_options(ExportJob& job) {
    const ExportOptions& o = job.options;
    job.format = &find_format(o.format);
    job.splits = parse_split(o.split, "--split");
    if (o.classes != "card" && o.classes != "name")
        throw ConfigError("--classes: expected card or name, got '" + o.classes + "'");
    job.class_per_card = o.classes == "name";
    if (o.min_visible && !(*o.min_visible >= 0 && *o.min_visible <= 1))
        throw ConfigError(format("--min-visible: expected 0..1, got %g", *o.min_visible));
    if (o.jpeg_quality < 1 || o.jpeg_quality > 100)
        throw ConfigError(format("--jpeg-quality: expected 1..100, got %d", o.jpeg_quality));
    job.threads = parse_threads(o.threads);
}

// A dataset that is unusable as export input is a bad input (exit 2), whatever the reader's kind.
void open_dataset(ExportJob& job) {
    const std::string& file = job.options.file;
    const std::string partial = ".partial";
    if (file.size() >= partial.size() &&
        file.compare(file.size() - partial.size(), partial.size(), partial) == 0)
        throw InputError("'" + file +
                         "' is an unfinished run: finish it with `cardsynth generate --resume`");
    try {
        job.reader = std::make_unique<DatasetReader>(file);
    } catch (const DatasetError& e) {
        throw InputError(e.what());
    }
    if (!job.reader->complete())
        throw InputError("'" + file +
                         "' is not complete (complete = 0): finish it with `cardsynth generate "
                         "--resume`");
    const DatasetHeader& h = job.reader->header();
    job.extension = h.storage == Storage::Png ? "png" : "jpg";
    if (job.options.min_visible) {
        job.min_visible = *job.options.min_visible;
    } else {
        Config stored;
        apply_yaml(stored, h.config_yaml, "'" + file + "' /config");
        job.min_visible = stored.scene.min_visible;
    }
}

void check_out_dir(ExportJob& job) {
    job.out = fs::absolute(job.options.out).lexically_normal();
    std::error_code ec;
    if (!fs::exists(job.out, ec)) return;
    if (!fs::is_directory(job.out, ec))
        throw InputError("--out '" + job.options.out + "' exists and is not a directory");
    if (!job.options.overwrite && fs::directory_iterator(job.out, ec) != fs::directory_iterator())
        throw InputError("--out '" + job.options.out +
                         "' is not empty (--overwrite replaces an export there)");
}

void make_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error("cannot create directory '" + dir.string() + "': " + ec.message());
}

// Replaces what an earlier export wrote (and nothing else), then makes the directories.
void prepare_out_dir(const ExportJob& job) {
    for (const char* entry : {"images", "labels", "annotations", "data.yaml"}) {
        std::error_code ec;
        fs::remove_all(job.out / entry, ec);
        if (ec) throw Error("cannot remove '" + (job.out / entry).string() + "': " + ec.message());
    }
    const bool yolo = job.format->layout == Layout::Yolo;
    for (const SplitPart& s : job.splits) {
        make_dir(job.out / "images" / s.name);
        if (yolo) make_dir(job.out / "labels" / s.name);
    }
    if (!yolo) make_dir(job.out / "annotations");
}

void write_file(const fs::path& path, const void* data, size_t size) {
    FILE* f = std::fopen(path.c_str(), "wb");
    const bool ok = f && (size == 0 || std::fwrite(data, 1, size, f) == size);
    const int error = errno;
    if ((f && std::fclose(f) != 0) || !ok)
        throw Error("cannot write '" + path.string() + "': " + std::strerror(f ? errno : error));
}

// The cards of an image that get a label: seen enough, and with some visible pixels.
std::vector<int> kept_slots(const std::vector<CardLabel>& cards, double min_visible) {
    std::vector<int> kept;
    for (size_t k = 0; k < cards.size(); ++k) {
        const CardLabel& c = cards[k];
        if (c.visible_fraction >= min_visible && c.bbox[2] > c.bbox[0] && c.bbox[3] > c.bbox[1])
            kept.push_back(static_cast<int>(k));
    }
    return kept;
}

// Stored JPEG and PNG bytes are written as they are; raw frames are encoded once, here.
void write_image(const ExportJob& job, const Slab& slab, int64_t j, const fs::path& path) {
    const DatasetHeader& h = job.reader->header();
    if (h.storage != Storage::Raw) {
        write_file(path, slab.bytes[j], slab.sizes[j]);
        return;
    }
    thread_local std::vector<uint8_t> jpeg;
    const cv::Mat rgb(h.height, h.width, CV_8UC3, const_cast<uint8_t*>(slab.bytes[j]));
    encode_image(rgb, Storage::Jpeg, job.options.jpeg_quality, jpeg);
    write_file(path, jpeg.data(), jpeg.size());
}

// Image j of the slab: its image file, and its label file or (COCO) its annotations.
void export_image(const ExportJob& job, const Slab& slab, int64_t j, int split,
                  std::vector<CocoAnnotation>* annotations) {
    const DatasetHeader& h = job.reader->header();
    ExportImage image;
    image.index = slab.begin + j;
    image.width = h.width;
    image.height = h.height;
    image.cards = &slab.labels[j];
    image.kept = kept_slots(slab.labels[j], job.min_visible);
    image.class_per_card = job.class_per_card;
    thread_local cv::Mat painted;
    cv::Mat stored;
    if (job.format->needs_region && h.masks) {
        const size_t pixels = static_cast<size_t>(h.width) * h.height;
        stored =
            cv::Mat(h.height, h.width, CV_8U, const_cast<uint8_t*>(slab.masks.data() + j * pixels));
        image.slots = &stored;
        image.slots_from_masks = true;
    } else if (job.format->needs_region) {
        paint_slots(slab.labels[j], h.width, h.height, painted);
        image.slots = &painted;
    }
    ImageOutput out;
    job.format->write(image, out);
    const std::string& split_name = job.splits[split].name;
    const std::string name = image_file_name(image.index, job.extension);
    write_image(job, slab, j, job.out / "images" / split_name / name);
    if (job.format->layout == Layout::Yolo) {
        const std::string stem = name.substr(0, name.size() - job.extension.size() - 1);
        write_file(job.out / "labels" / split_name / (stem + ".txt"), out.label_text.data(),
                   out.label_text.size());
    } else {
        *annotations = std::move(out.annotations);
    }
}

void export_images(const ExportJob& job, const std::vector<uint8_t>& split,
                   std::vector<std::vector<CocoAnnotation>>& annotations) {
    const DatasetHeader& h = job.reader->header();
    const SlabReader reader(job.options.file, h);
    const bool masks = job.format->needs_region && h.masks;
    const int64_t per_slab = reader.slab_images(masks, kSlabBudget);
    Progress progress(h.num_images, job.options.quiet);
    Slab slab;
    for (int64_t begin = 0; begin < h.num_images; begin += per_slab) {
        const int64_t end = std::min(h.num_images, begin + per_slab);
        try {
            reader.read(begin, end, masks, slab);
        } catch (const DatasetError& e) {
            // What the opening checks cannot see without reading every image (an image's bytes
            // past /images_encoded, a count over max_cards) is the input's fault too: exit 2.
            throw InputError(e.what());
        }
        parallel_for(static_cast<int>(end - begin), job.threads, [&](int j) {
            const size_t i = static_cast<size_t>(begin + j);
            export_image(job, slab, j, split[i], annotations.empty() ? nullptr : &annotations[i]);
        });
        progress.update(end);
    }
    progress.finish();
}

std::vector<std::string> class_names(const ExportJob& job) {
    return job.class_per_card ? job.reader->cards().names : std::vector<std::string>{"card"};
}

// A YAML double-quoted scalar (JSON's string syntax is a subset of it).
std::string quoted(const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_data_yaml(const ExportJob& job) {
    std::string yaml =
        "# cardsynth export of " + quoted(job.options.file) + ", format " + job.format->name + "\n";
    yaml += "path: " + quoted(job.out.string()) + "\n";
    bool has_val = false;
    for (const SplitPart& s : job.splits) {
        yaml += s.name + ": images/" + s.name + "\n";
        has_val = has_val || s.name == "val";
    }
    // Ultralytics refuses a data.yaml without `val`; with no val split it validates on train.
    if (!has_val) yaml += "val: images/" + job.splits.front().name + "\n";
    yaml += job.format->yaml_extra;
    const std::vector<std::string> names = class_names(job);
    yaml += "nc: " + std::to_string(names.size()) + "\nnames:\n";
    for (size_t k = 0; k < names.size(); ++k)
        yaml += "  " + std::to_string(k) + ": " + quoted(names[k]) + "\n";
    write_file(job.out / "data.yaml", yaml.data(), yaml.size());
}

void write_coco(const ExportJob& job, const std::vector<uint8_t>& split,
                const std::vector<std::vector<CocoAnnotation>>& annotations) {
    // Ids in image order, from 1, whatever thread made each image's annotations.
    std::vector<int64_t> first_id(annotations.size());
    int64_t next = 1;
    for (size_t i = 0; i < annotations.size(); ++i) {
        first_id[i] = next;
        next += static_cast<int64_t>(annotations[i].size());
    }
    const DatasetHeader& h = job.reader->header();
    CocoContext context;
    context.width = h.width;
    context.height = h.height;
    context.extension = job.extension;
    context.categories = class_names(job);
    context.card_names = &job.reader->cards().names;
    context.source = job.options.file;
    context.seed = h.seed;
    for (size_t s = 0; s < job.splits.size(); ++s) {
        std::vector<int64_t> images;
        for (size_t i = 0; i < split.size(); ++i)
            if (split[i] == s) images.push_back(static_cast<int64_t>(i));
        write_coco_json((job.out / "annotations" / (job.splits[s].name + ".json")).string(),
                        context, images, annotations, first_id);
    }
}

std::string split_summary(const ExportJob& job, const std::vector<uint8_t>& split) {
    std::string text;
    for (size_t s = 0; s < job.splits.size(); ++s)
        text += (text.empty() ? "" : ", ") + job.splits[s].name + " " +
                std::to_string(std::count(split.begin(), split.end(), s));
    return text;
}

}  // namespace

int64_t run_export(const ExportOptions& options) {
    ExportJob job;
    job.options = options;
    check_options(job);
    open_dataset(job);
    check_out_dir(job);
    const DatasetHeader& h = job.reader->header();
    std::vector<uint8_t> split(static_cast<size_t>(h.num_images));
    for (size_t i = 0; i < split.size(); ++i)
        split[i] = static_cast<uint8_t>(split_of(job.splits, h.seed, i));

    const auto start = std::chrono::steady_clock::now();
    prepare_out_dir(job);
    std::vector<std::vector<CocoAnnotation>> annotations(
        job.format->layout == Layout::Coco ? split.size() : 0);
    export_images(job, split, annotations);
    if (job.format->layout == Layout::Yolo)
        write_data_yaml(job);
    else
        write_coco(job, split, annotations);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options.quiet)
        log::info(format("[export] %lld images (%s) as %s in '%s', %.0f images/s",
                         static_cast<long long>(h.num_images), split_summary(job, split).c_str(),
                         job.format->name, job.out.c_str(),
                         seconds > 0 ? h.num_images / seconds : 0.0));
    return h.num_images;
}

}  // namespace cardsynth
