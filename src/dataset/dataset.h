// The one writer of the dataset file (schema cardsynth/1, docs/FORMAT.md). Every rank opens the
// same file through the MPI-IO driver, even a single process, and every call here is collective:
// all ranks make it, with the same arguments where HDF5 requires it. Fixed-shape datasets are
// created at full size up front, so a round's writes are hyperslabs by image index and no
// metadata changes while rendering; only /images_encoded grows, at round boundaries.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <mpi.h>

#include "base/hash.h"
#include "config/config.h"
#include "dataset/label_schema.h"
#include "render/labels.h"

namespace cardsynth {

constexpr const char* kSchema = "cardsynth/1";

// What /cards holds, and the record of the inputs the catalog read (docs/FORMAT.md).
struct CardTable {
    // Valid UTF-8 as read back. The writer stores any bytes (file names need not be UTF-8) as
    // valid UTF-8, each ill-formed sequence replaced by U+FFFD, and the bytes themselves in
    // name_bytes and source_bytes.
    std::vector<std::string> names;
    std::vector<std::string> sources;
    std::vector<int32_t> ranks;
    std::vector<double> weights;  // sampling probability
    // The bytes as the catalog had them. Empty when writing: the writer takes names and sources.
    // A file made before these columns reads back with copies of names and sources.
    std::vector<std::string> name_bytes;
    std::vector<std::string> source_bytes;

    // Each card's file as read (built-in cards: size and mtime 0, hash of what they are drawn
    // from), and the popularity table ("" without one). Empty `files`: no record (files made
    // before it, or a writer given none).
    std::vector<FileStamp> files;
    std::string popularity_path;
    FileStamp popularity_file;
};

// Root attributes and the stored configuration.
struct DatasetHeader {
    uint64_t seed = 0;
    int64_t num_images = 0;
    int width = 0, height = 0;
    int max_cards = 0;  // M, the label slots per image
    Storage storage = Storage::Jpeg;
    bool masks = false;
    std::string config_yaml;
    std::string generator_version;
    std::string created_utc;  // set by create() when empty
};

// Image buffers of a round: written in full before they are read, so new elements are left
// uninitialised instead of zeroed (a round of raw frames is hundreds of MiB). They start on a
// 4096-byte boundary, so that the writer can hand them to the disk without a copy (DirectFile).
template <class T>
struct UninitializedAllocator : std::allocator<T> {
    static constexpr std::align_val_t kAlignment{4096};
    template <class U>
    struct rebind {
        using other = UninitializedAllocator<U>;
    };
    UninitializedAllocator() = default;
    template <class U>
    UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
    void deallocate(T* p, size_t) noexcept { ::operator delete(p, kAlignment); }
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
using PixelBuffer = std::vector<uint8_t, UninitializedAllocator<uint8_t>>;

// One rank's share of a round: images [begin, end), possibly empty. Arrays are in image order.
struct RoundData {
    int64_t begin = 0, end = 0;
    PixelBuffer raw;                            // (end-begin) * H * W * 3, storage raw
    std::vector<std::vector<uint8_t>> encoded;  // one per image, storage jpeg or png
    // One buffer per column of the writer's LabelSchema, in its order: each image's entries of
    // that column as stored, slots past the image's count holding the column's padding.
    std::vector<std::vector<uint8_t>> labels;
    PixelBuffer masks;  // per image * H * W, when masks

    int64_t images() const { return end - begin; }
};

// The label buffers of a round: `images` images of `max_cards` padded slots each.
void reset_labels(RoundData& rd, int64_t images, int max_cards,
                  const LabelSchema& schema = default_label_schema());
// Image j's labels into its slots; slots past its count keep their padding.
void store_labels(RoundData& rd, int64_t j, int max_cards, const ImageLabels& labels,
                  const LabelSchema& schema = default_label_schema());
// Keeps the label buffers of the first `images` images.
void truncate_labels(RoundData& rd, int64_t images, int max_cards,
                     const LabelSchema& schema = default_label_schema());

class DatasetWriter {
  public:
    // Creates the file at `path` (which must not exist: the caller decides about overwriting),
    // writes the root attributes, /config and /cards, and creates every dataset at full size,
    // with /done all 0 and `complete` 0. Collective.
    // The label columns are those of `labels`, described on /labels for readers.
    static std::unique_ptr<DatasetWriter> create(
        MPI_Comm comm, const std::string& path, const DatasetHeader& header, const CardTable& cards,
        const LabelSchema& labels = default_label_schema());
    // Opens an existing file to finish it (--resume). Collective. Throws DatasetError naming the
    // file when it is not a cardsynth/1 dataset, or when its label columns are not `labels`
    // (every column's type and shape is checked).
    static std::unique_ptr<DatasetWriter> open(MPI_Comm comm, const std::string& path,
                                               const LabelSchema& labels = default_label_schema());
    ~DatasetWriter();

    const DatasetHeader& header() const;
    // /cards and the input record as stored (see read_cards in dataset/header.h). Every rank
    // reads them; --resume compares them with the catalog of the resumed run.
    CardTable read_cards() const;
    // /done, all N entries, on every rank.
    std::vector<uint8_t> read_done();

    // Writes every rank's share: data and labels, a flush, then /done for those indices and a
    // second flush. Collective; a rank with nothing to write passes an empty RoundData. A write
    // that fails on one rank throws on every rank, before /done is touched.
    void write_round(const RoundData& mine);
    // Sets `complete` = 1 after a final flush and closes the file. Collective.
    void finish();
    // Closes without marking complete (an interrupted run). Collective.
    void close();

    // Whether every transfer of the last write_round() stayed collective; `why` names the first
    // that did not (from H5Pget_mpio_no_collective_cause). Frames of a contiguous dataset are no
    // HDF5 transfer: each rank writes its own range of the file directly (DirectFile).
    bool last_round_collective(std::string& why) const;
    // Whether the frames go to the disk around the page cache (see DirectFile).
    bool frames_direct() const;
    // Makes this rank's frame writes fail from now on, so that a test can show what a failed
    // write leaves behind.
    void fail_frame_writes_for_tests();

    DatasetWriter(const DatasetWriter&) = delete;
    DatasetWriter& operator=(const DatasetWriter&) = delete;

    struct Impl;

  private:
    explicit DatasetWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace cardsynth
