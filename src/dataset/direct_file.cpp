#include "dataset/direct_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace cardsynth {
namespace {

// Memory that is not block-aligned goes to the disk through a copy of this size at a time.
constexpr size_t kBounceBytes = 8u << 20;

std::string reason(int err) {
    return std::strerror(err);
}

// Writes all of [data, data + size) at `offset`, as many calls as the kernel needs; returns 0 or
// the errno of the call that failed.
int write_all(int fd, uint64_t offset, const uint8_t* data, size_t size) {
    while (size > 0) {
        const ssize_t n = pwrite(fd, data, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return EIO;
        data += n, offset += static_cast<uint64_t>(n), size -= static_cast<size_t>(n);
    }
    return 0;
}

bool aligned(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % DirectFile::kBlock == 0;
}

}  // namespace

DirectFile::DirectFile(const std::string& path) : path_(path) {
    fd_ = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0)
        throw DatasetError("cannot open '" + path + "' for writing (" + reason(errno) + ")");
    // EINVAL: the file system has no direct I/O; plain writes remain correct.
    direct_fd_ = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
}

DirectFile::~DirectFile() {
    if (direct_fd_ >= 0) ::close(direct_fd_);
    if (fd_ >= 0) ::close(fd_);
    std::free(bounce_);
}

void DirectFile::write(uint64_t offset, const uint8_t* data, size_t size, const std::string& what) {
    // The partial blocks at both ends may share a block with a neighbour's range (another image,
    // another rank): the page cache merges those bytes, direct I/O would overwrite them.
    const size_t head = std::min<size_t>(size, (kBlock - offset % kBlock) % kBlock);
    const size_t body = (size - head) / kBlock * kBlock;
    const size_t tail = size - head - body;
    int err = write_all(fd_, offset, data, head);
    if (!err && body) write_blocks(offset + head, data + head, body, what);
    if (!err) err = write_all(fd_, offset + head + body, data + head + body, tail);
    if (err) throw DatasetError("cannot write " + what + " (" + reason(err) + ")");
}

// Whole blocks at a block-aligned offset.
void DirectFile::write_blocks(uint64_t offset, const uint8_t* data, size_t size,
                              const std::string& what) {
    if (direct()) {
        const bool written = aligned(data) ? write_direct(offset, data, size, what)
                                           : write_bounced(offset, data, size, what);
        if (written) return;
    }
    if (const int err = write_all(fd_, offset, data, size))
        throw DatasetError("cannot write " + what + " (" + reason(err) + ")");
}

// Direct I/O from memory that is not block-aligned: through an aligned copy, a piece at a time.
bool DirectFile::write_bounced(uint64_t offset, const uint8_t* data, size_t size,
                               const std::string& what) {
    if (!bounce_) bounce_ = static_cast<uint8_t*>(std::aligned_alloc(kBlock, kBounceBytes));
    if (!bounce_) throw DatasetError("cannot write " + what + " (out of memory)");
    for (size_t done = 0; done < size;) {
        const size_t n = std::min(kBounceBytes, size - done);
        std::memcpy(bounce_, data + done, n);
        if (!write_direct(offset + done, bounce_, n, what)) return false;
        done += n;
    }
    return true;
}

// False when the file system turned direct I/O down after all (EINVAL at the first write on some
// file systems): from then on every write goes through the page cache.
bool DirectFile::write_direct(uint64_t offset, const uint8_t* data, size_t size,
                              const std::string& what) {
    const int err = write_all(direct_fd_, offset, data, size);
    if (!err) return true;
    if (err != EINVAL) throw DatasetError("cannot write " + what + " (" + reason(err) + ")");
    ::close(direct_fd_);
    direct_fd_ = -1;
    return false;
}

void DirectFile::sync() {
    int rc = 0;
    while ((rc = fdatasync(fd_)) < 0 && errno == EINTR) {
    }
    if (rc < 0) throw DatasetError("cannot sync '" + path_ + "' (" + reason(errno) + ")");
}

}  // namespace cardsynth
