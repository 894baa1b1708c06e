// The output of `generate`, from path checks to the finished file. The run writes OUT.partial,
// created under a third name (OUT.partial.new) and renamed once its first metadata is flushed, so
// a crash can never leave an OUT.partial that does not open; --resume reopens OUT.partial after
// checking that it was made with the same configuration; only a complete file is renamed to OUT.
// The run holds OUT.lock (run/output_lock.h) from the path checks until this object goes. A file
// name too long to take these suffixes within the file system's limit gets short names of its own
// in the same directory (run/output_lock.h says how), which --resume finds again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "config/config.h"
#include "dataset/dataset.h"
#include "mpi/mpi_context.h"
#include "run/output_lock.h"

namespace cardsynth {

// The name a dataset has until it is complete: OUT.partial, or the short form for a long name.
std::string partial_path(const std::string& path);

// What one stored image costs on disk at most: its pixels (encoded sizes are generous bounds),
// its mask, its label slots and its per-image entries. Sizes free-space checks and rounds.
int64_t stored_bytes_per_image(const Config& config);

class OutputFile {
  public:
    // Rank 0 checks the output path (the directory exists and is writable; OUT and OUT.partial
    // are regular files or absent, never one of the run's inputs, and are replaced only with
    // --overwrite), takes the output's lock for this object's lifetime and decides whether to
    // create, resume or do nothing (--resume of an OUT that is a complete cardsynth file of this
    // configuration). Collective; throws ConfigError on every rank.
    OutputFile(const Config& config, bool resume, const MpiContext& mpi);

    // --resume found OUT itself: nothing is left to make.
    bool already_complete() const { return action_ == Action::AlreadyComplete; }
    // OUT.partial exists and is finished, not made anew.
    bool resuming() const { return action_ == Action::Resume; }
    const std::string& partial() const { return partial_; }

    // OUT.partial, created at full size for `catalog`, or reopened to finish. Collective.
    std::unique_ptr<DatasetWriter> open(const Catalog& catalog) const;
    // Throws DatasetError on every rank when `images` more images would not fit. Collective.
    void check_free_space(int64_t images) const;
    // A failed write's message with its likely cause (a full disk) and what to do about it.
    std::string explain_write_failure(const std::string& what) const;
    // Sets `complete`, closes the file and renames it to OUT. Collective.
    void complete(std::unique_ptr<DatasetWriter> writer) const;

  private:
    enum class Action { Create, Resume, AlreadyComplete };
    Action check_path(bool resume);
    // Throws ConfigError unless `path` is a complete cardsynth file of this configuration.
    void check_complete_output(const std::string& path) const;
    std::unique_ptr<DatasetWriter> create(const Catalog& catalog) const;
    std::unique_ptr<DatasetWriter> reopen() const;
    void rename_on_root(const std::string& from, const std::string& to) const;

    const Config& config_;
    const MpiContext& mpi_;
    std::string partial_;
    Action action_ = Action::Create;
    std::unique_ptr<OutputLock> lock_;  // rank 0 only
};

}  // namespace cardsynth
