// Content hashes for telling whether an input changed: XXH64 (xxHash's 64-bit function, seed 0
// unless given), fast enough to run over every card file the catalog reads anyway, and the same
// value `xxhsum -H64` prints. Not cryptographic: it detects edits, not tampering.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cardsynth {

uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);
inline uint64_t xxh64(const std::string& bytes, uint64_t seed = 0) {
    return xxh64(bytes.data(), bytes.size(), seed);
}

// A file as a run read it: what --resume compares with the file as it is now.
struct FileStamp {
    int64_t size = 0;      // bytes read
    int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
    uint64_t hash = 0;     // xxh64 of the bytes read
};

inline bool operator==(const FileStamp& a, const FileStamp& b) {
    return a.size == b.size && a.mtime_ns == b.mtime_ns && a.hash == b.hash;
}
inline bool operator!=(const FileStamp& a, const FileStamp& b) {
    return !(a == b);
}

}  // namespace cardsynth
