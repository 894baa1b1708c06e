#include "dataset/header_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/error.h"

namespace cardsynth::h5 {
namespace {

constexpr uint16_t kLayout = 0x08;
constexpr uint16_t kContinuation = 0x10;
constexpr uint16_t kSymbolTable = 0x11;
constexpr uint64_t kFreeNull = 1;  // H5HL_FREE_NULL: the end of the free list
constexpr int kMaxChunks = 64;     // header chunks followed; more is a crafted loop
constexpr char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

// The file's bytes by HDF5 address.
class Bytes {
  public:
    Bytes(const std::string& path, const FileLayout& layout) : base_(layout.base) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st {};
        if (fd_ >= 0 && ::fstat(fd_, &st) == 0) end_ = static_cast<uint64_t>(st.st_size);
    }
    ~Bytes() {
        if (fd_ >= 0) ::close(fd_);
    }
    Bytes(const Bytes&) = delete;
    Bytes& operator=(const Bytes&) = delete;

    // `size` bytes from `address`; empty when any of them lies past the end of the file.
    std::vector<uint8_t> read(uint64_t address, uint64_t size) const {
        if (address >= end_ || base_ >= end_ - address || size > end_ - base_ - address) return {};
        std::vector<uint8_t> out(static_cast<size_t>(size));
        const ssize_t got =
            ::pread(fd_, out.data(), out.size(), static_cast<off_t>(base_ + address));
        if (got != static_cast<ssize_t>(out.size())) out.clear();
        return out;
    }

    uint64_t length() const { return end_; }

  private:
    uint64_t base_ = 0, end_ = 0;
    int fd_ = -1;
};

uint64_t decode(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | p[k];
    return v;
}

struct Chunk {
    uint64_t address, size;
};

struct HeaderWalk {
    const FileLayout& layout;
    std::vector<Chunk> chunks;
    uint64_t heap = 0;  // the symbol table message's local heap address, 0 when none
    std::vector<uint8_t> layout_message;  // the data layout message, empty when none

    // The messages of one chunk: type, size, data; version 1 or 2 message headers.
    void messages(const std::vector<uint8_t>& b, size_t at, size_t end, int version,
                  bool creation_order) {
        const size_t prefix = version == 1 ? 8 : (creation_order ? 6 : 4);
        while (at + prefix <= end) {
            const uint16_t type = version == 1 ? static_cast<uint16_t>(decode(&b[at], 2)) : b[at];
            const size_t size = static_cast<size_t>(decode(&b[at + (version == 1 ? 2 : 1)], 2));
            const size_t data = at + prefix;
            if (data + size > end) return;
            const int O = layout.offset_bytes, L = layout.length_bytes;
            if (type == kSymbolTable && size >= static_cast<size_t>(2 * O))
                heap = decode(&b[data + O], O);
            if (type == kLayout)
                layout_message.assign(b.begin() + static_cast<std::ptrdiff_t>(data),
                                      b.begin() + static_cast<std::ptrdiff_t>(data + size));
            if (type == kContinuation && size >= static_cast<size_t>(O + L))
                chunks.push_back({decode(&b[data], O), decode(&b[data + O], L)});
            at = data + size;
        }
    }
};

// The messages of interest of the object header at `header` (none when it cannot be read).
HeaderWalk read_header(const Bytes& file, const FileLayout& layout, uint64_t header) {
    HeaderWalk walk{layout, {}, 0, {}};
    std::vector<uint8_t> b = file.read(header, 16);
    if (b.size() < 16) return walk;
    int version = 0;
    bool creation_order = false;
    if (b[0] == 1) {  // version 1: a 16-byte prefix, then chunk 0
        version = 1;
        walk.chunks.push_back({header + 16, decode(&b[8], 4)});
    } else if (std::memcmp(b.data(), "OHDR", 4) == 0 && b[4] == 2) {
        version = 2;
        const uint8_t flags = b[5];
        creation_order = (flags & 0x04) != 0;
        size_t at = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
        const int width = 1 << (flags & 0x03);
        b = file.read(header, at + static_cast<size_t>(width));
        if (b.empty()) return walk;
        walk.chunks.push_back({header + at + width, decode(&b[at], width)});
    } else {
        return walk;
    }
    for (size_t c = 0; c < walk.chunks.size() && c < kMaxChunks; ++c) {
        const Chunk chunk = walk.chunks[c];
        const std::vector<uint8_t> bytes = file.read(chunk.address, chunk.size);
        if (bytes.empty()) break;
        // Version 2 continuation chunks start with "OCHK" and every version 2 chunk ends with a
        // checksum.
        const size_t skip = (version == 2 && c > 0) ? 4 : 0;
        const size_t tail = version == 2 ? 4 : 0;
        if (bytes.size() < skip + tail) continue;
        walk.messages(bytes, skip, bytes.size() - tail, version, creation_order);
    }
    return walk;
}

// The chunk dimensions a data layout message declares (versions 1 to 4; the last of versions 1
// to 3 is the element size); empty for a layout that is not chunked or cannot be read.
std::vector<uint64_t> chunk_dims(const std::vector<uint8_t>& m, int offset_bytes) {
    if (m.size() < 5) return {};
    size_t at = 0, width = 4, rank = 0;
    if ((m[0] == 1 || m[0] == 2) && m.size() >= 8 && m[2] == 2) {
        rank = m[1], at = 8 + static_cast<size_t>(offset_bytes);
    } else if (m[0] == 3 && m[1] == 2) {
        rank = m[2], at = 3 + static_cast<size_t>(offset_bytes);
    } else if (m[0] == 4 && m[1] == 2) {
        rank = m[3], width = m[4], at = 5;
        if (width < 1 || width > 8) return {};
    }
    std::vector<uint64_t> dims;
    for (size_t d = 0; d < rank && at + width <= m.size(); ++d, at += width)
        dims.push_back(decode(&m[at], static_cast<int>(width)));
    return dims;
}

// The end of file the superblock at the start of `file` records (its base address plus its
// end-of-file address), or 0 when there is none there to read.
uint64_t stored_end_of_file(const Bytes& file) {
    const std::vector<uint8_t> sb = file.read(0, 12 + 4 * 8 + 16);
    if (sb.size() < 12 || std::memcmp(sb.data(), kSignature, sizeof kSignature) != 0) return 0;
    // Where the widths and the addresses lie depends on the superblock's version.
    const int version = sb[8];
    if (version > 3) return 0;
    const int O = version < 2 ? sb[13] : sb[9];
    if (O != 2 && O != 4 && O != 8) return 0;
    const size_t base_at = version == 0 ? 24 : version == 1 ? 28 : 12;
    const size_t eof_at = base_at + 2 * static_cast<size_t>(O);
    if (eof_at + O > sb.size()) return 0;
    const uint64_t undefined = O == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * O)) - 1;
    const uint64_t base = decode(&sb[base_at], O), eof = decode(&sb[eof_at], O);
    if (base == undefined || eof == undefined || eof > UINT64_MAX - base) return 0;
    return base + eof;
}

}  // namespace

void require_finite_heap(const std::string& path, const FileLayout& layout, uint64_t header,
                         const std::string& group) {
    const Bytes file(path, layout);
    const uint64_t heap = read_header(file, layout, header).heap;
    if (heap == 0) return;
    const int O = layout.offset_bytes, L = layout.length_bytes;
    const std::string bad = "group '" + group + "' in '" + path + "' has a damaged name heap";
    // A valid file holds every heap whole; the library reads a misplaced one through a null
    // buffer.
    const std::vector<uint8_t> prefix = file.read(heap, 8 + 2 * L + O);
    if (prefix.empty() || std::memcmp(prefix.data(), "HEAP", 4) != 0 || prefix[4] != 0)
        throw DatasetError(bad + " (it is not where the group's header says)");
    const uint64_t size = decode(&prefix[8], L);
    const std::vector<uint8_t> data = file.read(decode(&prefix[8 + 2 * L], O), size);
    if (data.size() != size) throw DatasetError(bad + " (it runs past the end of the file)");
    // The offset of the free block after the one at `block`; kFreeNull once the library would
    // stop, by reaching the end or by refusing the list itself.
    const auto next = [&](uint64_t block) -> uint64_t {
        if (block == kFreeNull || block >= size) return kFreeNull;
        if (block + 2 * static_cast<uint64_t>(L) > size)
            throw DatasetError(bad + " (its free list runs past its end)");
        const uint64_t after = decode(&data[block], L);
        return after == 0 ? kFreeNull : after;
    };
    // Brent's cycle finding: time in proportion to the list, no memory.
    uint64_t slow = decode(&prefix[8 + L], L), fast = next(slow);
    for (uint64_t power = 1, length = 1; fast != kFreeNull; fast = next(fast), ++length) {
        if (fast == slow) throw DatasetError(bad + " (its free list loops)");
        if (length == power) slow = fast, power *= 2, length = 0;
    }
}

void require_nonzero_chunks(const std::string& path, const FileLayout& layout, uint64_t header,
                            const std::string& dataset) {
    const Bytes file(path, layout);
    const HeaderWalk walk = read_header(file, layout, header);
    for (uint64_t d : chunk_dims(walk.layout_message, layout.offset_bytes))
        if (d == 0)
            throw DatasetError("dataset '" + dataset + "' in '" + path +
                               "' declares chunks with a dimension of 0");
}

bool shorter_than_recorded(const std::string& path) {
    const Bytes file(path, FileLayout{});
    const uint64_t end = stored_end_of_file(file);
    return end != 0 && file.length() < end;
}

}  // namespace cardsynth::h5
