#include "run/output_file.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <climits>

#include <filesystem>

#include "base/error.h"
#include "base/log.h"
#include "base/text.h"
#include "dataset/dataset_reader.h"
#include "dataset/header_check.h"
#include "run/input_record.h"

namespace fs = std::filesystem;

namespace cardsynth {
namespace {

// Per label slot: the per-slot columns of the label table, so that a new column counts here too.
constexpr int64_t kLabelBytesPerSlot = kCardsynth1LabelBytesPerSlot;
// Per image: its count (uint16), its /done flag (uint8), its offset and size (uint64 each).
constexpr int64_t kIndexBytesPerImage = 2 + 1 + 2 * 8;
static_assert(kLabelBytesPerSlot == 76, "the label columns of docs/FORMAT.md");

// Free bytes in the output's directory, which it names in `dir`; negative when it cannot be told.
double free_bytes_for(const Config& c, fs::path& dir) {
    dir = fs::absolute(c.output.path).parent_path();
    struct statvfs st {};
    if (statvfs(dir.c_str(), &st) != 0) return -1.0;
    return static_cast<double>(st.f_bavail) * st.f_frsize;
}

DatasetHeader header_for(const Config& config) {
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
    return header;
}

CardTable table_for(const Catalog& catalog) {
    CardTable table;
    for (const Card& c : catalog.cards()) {
        table.names.push_back(c.name);
        table.sources.push_back(c.source);
        table.ranks.push_back(c.rank);
        table.weights.push_back(c.probability);
        table.files.push_back(c.file);
    }
    table.popularity_path = catalog.popularity_path();
    table.popularity_file = catalog.popularity_file();
    return table;
}

// Throws ConfigError when `header`, read from `file`, was made with another configuration.
void check_same_configuration(const DatasetHeader& header, const Config& config,
                              const std::string& file) {
    Config stored;
    apply_yaml(stored, header.config_yaml, file + ":/config");
    const std::string key = first_content_difference(stored, config);
    if (!key.empty())
        throw ConfigError("--resume: '" + key + "' differs from the configuration stored in '" +
                          file + "'; resume with the same settings or start over with --overwrite");
    if (header.max_cards != config.scene.max_cards)
        throw ConfigError("--resume: 'scene.max_cards' differs from '" + file + "'");
}

// What `path` is, for a message: "a directory", "a character device", ...
std::string kind_of(fs::file_type t) {
    switch (t) {
        case fs::file_type::directory:
            return "a directory";
        case fs::file_type::character:
            return "a character device";
        case fs::file_type::block:
            return "a block device";
        case fs::file_type::fifo:
            return "a FIFO";
        case fs::file_type::socket:
            return "a socket";
        default:
            return "not a regular file";
    }
}

// Throws ConfigError unless `path` is absent, a regular file or a symlink to a regular file.
void check_regular_or_absent(const std::string& path) {
    std::error_code ec;
    const fs::file_status link = fs::symlink_status(path, ec);
    if (link.type() == fs::file_type::not_found) return;
    if (ec) throw ConfigError("output '" + path + "' cannot be checked: " + ec.message());
    if (fs::is_symlink(link)) {
        const fs::file_status target = fs::status(path, ec);
        if (target.type() == fs::file_type::regular) return;
        if (target.type() == fs::file_type::not_found)
            throw ConfigError("output '" + path +
                              "' is a dangling symbolic link, not a regular file; nothing was "
                              "written");
        throw ConfigError("output '" + path + "' is a symbolic link to " + kind_of(target.type()) +
                          ", not to a regular file; nothing was written");
    }
    if (link.type() == fs::file_type::regular) return;
    const std::string kind = kind_of(link.type());
    throw ConfigError("output '" + path + "' is " + kind +
                      (kind == "not a regular file" ? "" : ", not a regular file") +
                      "; nothing was written");
}

// Throws ConfigError when `out` is the same file as one of the run's inputs (the popularity
// table, a card image, a background), so that replacing it cannot destroy an input.
void check_not_an_input(const std::string& out, const Config& config) {
    struct stat o {};
    if (stat(out.c_str(), &o) != 0) return;  // absent: it is no input
    auto same = [&](const fs::path& input, const char* what) {
        struct stat i {};
        if (stat(input.c_str(), &i) == 0 && i.st_dev == o.st_dev && i.st_ino == o.st_ino)
            throw ConfigError("output '" + out + "' is " + what + " of this run ('" +
                              input.string() + "'); nothing was written");
    };
    if (!config.cards.popularity.empty()) same(config.cards.popularity, "the popularity table");
    auto scan = [&](const std::string& dir, const char* what) {
        std::error_code ec;
        if (dir.empty() || !fs::is_directory(dir, ec)) return;
        fs::recursive_directory_iterator it(dir,
                                            fs::directory_options::follow_directory_symlink |
                                                fs::directory_options::skip_permission_denied,
                                            ec);
        for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file(ec)) same(it->path(), what);
    };
    for (const std::string& d : config.cards.dirs) scan(d, "a card image");
    scan(config.backgrounds.dir, "a background image");
}

// A long path in a message: its start and its length, so that the line stays readable.
std::string abbreviated(const std::string& path) {
    constexpr size_t kShown = 60;
    if (path.size() <= kShown) return "'" + path + "'";
    return "'" + path.substr(0, kShown) + "...' (" + std::to_string(path.size()) + " bytes)";
}

// Throws ConfigError when the output path, or the longest name the run makes beside it, is longer
// than the system takes: a path over PATH_MAX, a component over its file system's NAME_MAX.
// Without this the first failure would come from deep inside MPI-IO or HDF5.
void check_path_length(const std::string& out, const std::string& longest) {
    constexpr size_t kPathMax = PATH_MAX - 1;  // PATH_MAX counts the terminating NUL
    for (const std::string& p : {out, longest})
        if (p.size() > kPathMax)
            throw ConfigError("output path " + abbreviated(p) + " is longer than this system's " +
                              "limit of " + std::to_string(kPathMax) + " bytes (PATH_MAX)");
    const fs::path dir = fs::path(out).parent_path();
    const long name_max = pathconf(dir.empty() ? "." : dir.c_str(), _PC_NAME_MAX);
    const size_t limit = name_max > 0 ? static_cast<size_t>(name_max) : NAME_MAX;
    for (const fs::path& part : fs::path(out))
        if (part.native().size() > limit)
            throw ConfigError("output path " + abbreviated(out) + " has a component of " +
                              std::to_string(part.native().size()) + " bytes (" +
                              abbreviated(part.native()) + "), over the file system's limit of " +
                              std::to_string(limit) + " (NAME_MAX)");
}

}  // namespace

std::string partial_path(const std::string& path) {
    return sidecar_stem(path) + ".partial";
}

int64_t stored_bytes_per_image(const Config& c) {
    const int64_t px = static_cast<int64_t>(c.frame.width) * c.frame.height;
    int64_t bytes = 0;
    switch (c.output.storage) {
        case Storage::Raw:
            bytes = px * 3;
            break;
        case Storage::Jpeg:
            bytes = px * 3 / 8;  // quality 90 photos stay well under 3 bits per pixel
            break;
        case Storage::Png:
            bytes = px * 3 * 3 / 4;
            break;
    }
    if (c.output.masks) bytes += px;
    return bytes + c.scene.max_cards * kLabelBytesPerSlot + kIndexBytesPerImage;
}

OutputFile::OutputFile(const Config& config, bool resume, const MpiContext& mpi)
    : config_(config), mpi_(mpi), partial_(partial_path(config.output.path)) {
    int action = 0;
    mpi.agree([&] {
        if (mpi.root()) action = static_cast<int>(check_path(resume));
    });
    check_mpi(MPI_Bcast(&action, 1, MPI_INT, 0, mpi.comm()), "MPI_Bcast of the output decision");
    action_ = static_cast<Action>(action);
}

OutputFile::Action OutputFile::check_path(bool resume) {
    const std::string& out = config_.output.path;
    check_path_length(out, partial_ + ".new");
    const fs::path dir = fs::absolute(out).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ConfigError("output directory '" + dir.string() + "' does not exist");
    if (access(dir.c_str(), W_OK) != 0)
        throw ConfigError("output directory '" + dir.string() + "' is not writable");
    // Before the lock and before anything is written: the output may only ever be a regular file
    // (never a device, a FIFO or a directory) and never one of the run's own inputs.
    for (const std::string& p : {out, partial_}) check_regular_or_absent(p);
    check_not_an_input(out, config_);
    check_not_an_input(partial_, config_);
    // Before anything is read, replaced or deleted: another run may be writing these files.
    lock_ = std::make_unique<OutputLock>(out);
    if (resume) {
        if (fs::exists(partial_, ec)) {
            if (!h5::shorter_than_recorded(partial_)) return Action::Resume;
            // Which of its images are whole cannot be told from what is left: made again, all
            // of them, rather than trusted.
            log::warn("[output] '" + partial_ + "' is shorter than its superblock records (the " +
                      "last run stopped during a flush, or the file was cut): starting it again");
            return Action::Create;
        }
        if (fs::exists(out, ec)) {
            // "Nothing left to do" only for the very dataset this command would have made.
            check_complete_output(out);
            return Action::AlreadyComplete;
        }
        // A job requeued before it made its file resumes from nothing: start it.
        log::info("[output] no '" + partial_ + "' to resume: starting it");
        return Action::Create;
    }
    for (const std::string& p : {out, partial_})
        if (fs::exists(p, ec) && !config_.output.overwrite)
            throw ConfigError("output '" + p + "' already exists; pass --overwrite to replace it" +
                              (p == partial_ ? " or --resume to finish it" : ""));
    return Action::Create;
}

void OutputFile::check_complete_output(const std::string& path) const {
    std::unique_ptr<DatasetReader> reader;
    try {
        reader = std::make_unique<DatasetReader>(path);
    } catch (const DatasetError& e) {
        throw ConfigError("--resume: '" + path + "' is not a cardsynth dataset (" + e.what() +
                          "); start over with --overwrite");
    }
    if (!reader->complete())
        throw ConfigError("--resume: '" + path +
                          "' is not complete (complete = 0); start over with --overwrite");
    check_same_configuration(reader->header(), config_, path);
    check_same_inputs(reader->cards(), Catalog::load(config_.cards), path);
}

std::unique_ptr<DatasetWriter> OutputFile::open(const Catalog& catalog) const {
    if (action_ != Action::Resume) return create(catalog);
    std::unique_ptr<DatasetWriter> writer = reopen();
    mpi_.agree([&] { check_same_inputs(writer->read_cards(), catalog, partial_); });
    return writer;
}

std::unique_ptr<DatasetWriter> OutputFile::create(const Catalog& catalog) const {
    const std::string creating = partial_ + ".new";
    mpi_.agree([&] {
        if (!mpi_.root()) return;
        std::error_code ec;
        for (const std::string& p : {config_.output.path, partial_, creating}) fs::remove(p, ec);
    });
    check_free_space(config_.num_images);
    mpi_.agree([&] {
        DatasetWriter::create(mpi_.comm(), creating, header_for(config_), table_for(catalog))
            ->close();
    });
    rename_on_root(creating, partial_);
    std::unique_ptr<DatasetWriter> writer;
    mpi_.agree([&] { writer = DatasetWriter::open(mpi_.comm(), partial_); });
    return writer;
}

std::unique_ptr<DatasetWriter> OutputFile::reopen() const {
    std::unique_ptr<DatasetWriter> writer;
    mpi_.agree([&] { writer = DatasetWriter::open(mpi_.comm(), partial_); });
    mpi_.agree([&] { check_same_configuration(writer->header(), config_, partial_); });
    return writer;
}

void OutputFile::check_free_space(int64_t images) const {
    mpi_.agree([&] {
        if (!mpi_.root()) return;
        fs::path dir;
        const double free_bytes = free_bytes_for(config_, dir);
        if (free_bytes < 0) return;  // cannot tell: a failed write will say
        const double need = static_cast<double>(images) * stored_bytes_per_image(config_);
        if (need > free_bytes)
            throw DatasetError("not enough free space in '" + dir.string() + "' for '" +
                               config_.output.path + "': need about " + byte_size_text(need) +
                               ", have " + byte_size_text(free_bytes));
    });
}

std::string OutputFile::explain_write_failure(const std::string& what) const {
    // HDF5 reports a full disk as a failed write; a nearly empty disk is the likely reason.
    constexpr double kNearlyFullBytes = 512.0 * (1 << 20);
    fs::path dir;
    const double free_bytes = free_bytes_for(config_, dir);
    if (free_bytes < 0 || free_bytes > kNearlyFullBytes) return what;
    return what + ": the disk is full (no space left: " + byte_size_text(free_bytes) +
           " free in '" + dir.string() + "'); make room, then rerun the same command with --resume";
}

void OutputFile::complete(std::unique_ptr<DatasetWriter> writer) const {
    mpi_.agree([&] { writer->finish(); });
    writer.reset();
    rename_on_root(partial_, config_.output.path);
}

void OutputFile::rename_on_root(const std::string& from, const std::string& to) const {
    mpi_.agree([&] {
        if (!mpi_.root()) return;
        std::error_code ec;
        fs::rename(from, to, ec);
        if (ec) throw DatasetError("cannot rename '" + from + "' to '" + to + "': " + ec.message());
    });
}

}  // namespace cardsynth
