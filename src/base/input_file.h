// Whole-file reads of what the user names (configuration, popularity table): only regular files,
// only up to a size limit, checked before the first byte is read, so that `/dev/zero`, a FIFO or
// a mistyped multi-gigabyte path fails at once with the file's name instead of filling memory.
#pragma once

#include <cstdint>
#include <string>

namespace cardsynth {

// The size limits of the inputs read whole.
constexpr int64_t kConfigFileLimit = 1ll << 20;        // 1 MiB of YAML is far beyond any config
constexpr int64_t kPopularityFileLimit = 256ll << 20;  // a table of every card ever printed fits

// The contents of `path`, a regular file of at most `limit` bytes. Throws InputError
// "<what> '<path>': <why>" when it is missing, not a regular file, larger than `limit` (before
// reading), or unreadable. A file that grows past `limit` while being read fails too.
std::string read_input_file(const std::string& path, int64_t limit, const std::string& what);

}  // namespace cardsynth
