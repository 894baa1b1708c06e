// Writes byte ranges of the dataset file that HDF5 has laid out and will not touch again: the
// frames of a contiguous dataset, allocated when the file was created and never filled. Through
// the MPI-IO driver every frame was copied into the page cache before going to the disk, and that
// copy was nearly all of the writer's CPU time; here the whole blocks of a range go from the
// caller's memory to the disk (O_DIRECT), and only the partial blocks at its ends go through the
// page cache. Where the file system refuses direct I/O (tmpfs), every byte is a plain write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cardsynth {

class DirectFile {
  public:
    // Direct I/O wants offsets, sizes and memory in multiples of the device's logical block; 4096
    // is one for every device in use (512 and 4096 byte sectors).
    static constexpr size_t kBlock = 4096;

    // Opens an existing file for writing. Throws DatasetError naming it.
    explicit DirectFile(const std::string& path);
    ~DirectFile();
    DirectFile(const DirectFile&) = delete;
    DirectFile& operator=(const DirectFile&) = delete;

    // Writes `size` bytes at `offset`; `what` names the data in an error ("dataset '/images' in
    // 'out.h5'"), which is a DatasetError with the system's reason.
    void write(uint64_t offset, const uint8_t* data, size_t size, const std::string& what);
    // Makes what write() wrote durable, the file's size and blocks included (fdatasync).
    void sync();
    // Whether whole blocks bypass the page cache.
    bool direct() const { return direct_fd_ >= 0; }

  private:
    void write_blocks(uint64_t offset, const uint8_t* data, size_t size, const std::string& what);
    bool write_bounced(uint64_t offset, const uint8_t* data, size_t size, const std::string& what);
    bool write_direct(uint64_t offset, const uint8_t* data, size_t size, const std::string& what);

    std::string path_;
    int fd_ = -1;                // through the page cache: partial blocks, and the sync
    int direct_fd_ = -1;         // O_DIRECT; -1 where the file system refuses it
    uint8_t* bounce_ = nullptr;  // aligned copy of memory that is not block-aligned
};

}  // namespace cardsynth
