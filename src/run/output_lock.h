// An exclusive claim on one output for the whole run: the file OUT.lock beside it, created with
// O_CREAT|O_EXCL and holding "host pid start-time" of its owner. Two runs on one -o would
// otherwise write, rename and delete each other's files; the second one is refused before it
// touches anything. A lock left by a dead process of this host (a run killed with SIGKILL) is
// replaced with a warning; one from another host cannot be checked and is refused.
#pragma once

#include <string>

namespace cardsynth {

// What the names of the files a run makes beside the output `path` (OUT.partial, OUT.partial.new,
// OUT.lock) begin with: `path` itself, unless its file name is so long that they would not fit the
// file system's name limit or Open MPI's path buffers; then the first 64 bytes of that name and a
// hash of all of it, in the same directory, so that --resume finds the same files again.
std::string sidecar_stem(const std::string& path);
// The longest name a run makes from the stem.
constexpr const char* kLongestSidecarSuffix = ".partial.new";

// The lock file's name for the output `path`.
std::string lock_path(const std::string& path);

class OutputLock {
  public:
    // Takes the lock on `output`; throws ConfigError naming the holder's host and PID when a live
    // run (or one on another host) has it. Call on one rank only.
    explicit OutputLock(const std::string& output);
    // Removes the lock file, unless another process has replaced it meanwhile.
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;

    const std::string& path() const { return path_; }

  private:
    std::string path_;
    std::string content_;  // what this run wrote, to remove only its own lock
};

}  // namespace cardsynth
