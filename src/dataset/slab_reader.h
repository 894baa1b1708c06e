// Reads a dataset in slabs of consecutive images, for the export: labels, stored image bytes and
// masks of a few hundred images per HDF5 call, instead of several calls per image, since the
// export of an image is little more than a byte copy. DatasetReader checks the file first; this
// reads what it has checked.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataset/dataset.h"
#include "dataset/label_schema.h"
#include "render/labels.h"

namespace cardsynth {

// Images [begin, end) of a file.
struct Slab {
    int64_t begin = 0, end = 0;
    std::vector<std::vector<CardLabel>> labels;  // per image, `count` cards each
    std::vector<const uint8_t*> bytes;           // per image: the stored file, or raw RGB pixels
    std::vector<size_t> sizes;
    std::vector<std::vector<uint8_t>> buffers;  // what `bytes` points into
    std::vector<uint8_t> masks;                 // (end - begin) x H x W, when asked for

    int64_t images() const { return end - begin; }
};

class SlabReader {
  public:
    // Opens `path` read-only; `header` is what DatasetReader read from it.
    SlabReader(const std::string& path, const DatasetHeader& header,
               const LabelSchema& schema = default_label_schema());
    ~SlabReader();

    // Images per slab, so that a slab's buffers stay near `budget_bytes`.
    int64_t slab_images(bool masks, int64_t budget_bytes) const;
    // Reads images [begin, end) into `slab` (its buffers are reused); masks only when asked.
    void read(int64_t begin, int64_t end, bool masks, Slab& slab) const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace cardsynth
