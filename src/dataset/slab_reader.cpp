// The only export source that calls HDF5 (through the dataset's handles): the reader has no
// call that returns a range of images.
#include "dataset/slab_reader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "base/error.h"
#include "dataset/hdf5_handle.h"
#include "dataset/header.h"
#include "dataset/label_columns.h"

namespace cardsynth {

struct SlabReader::Impl {
    std::string path;
    h5::File file;  // first member: destroyed after every dataset of it
    DatasetHeader header;
    LabelSchema schema;
    std::vector<h5::Dataset> labels;
    h5::Dataset images, encoded, masks;
    std::vector<uint64_t> offsets, sizes;  // encoded storage
    uint64_t encoded_total = 0;
    size_t cards = 0;       // the length of /cards/name, which card ids index
    bool card_ids = false;  // the schema reads card ids

    bool is_encoded() const { return header.storage != Storage::Raw; }
    size_t pixels() const { return static_cast<size_t>(header.width) * header.height; }
    void read_labels(Slab& slab) const;
    void read_encoded(Slab& slab) const;
    void read_raw(Slab& slab) const;
};

SlabReader::SlabReader(const std::string& path, const DatasetHeader& header,
                       const LabelSchema& schema)
    : impl_(std::make_unique<Impl>()) {
    Impl& d = *impl_;
    d.path = path;
    d.header = header;
    d.schema = schema;
    for (const LabelColumn& c : schema.columns())
        if (std::string(c.name) == "card_id") d.card_ids = true;
    d.file = h5::File::open_read(path);
    check_datasets(d.file, header);
    d.cards = static_cast<size_t>(d.file.open_dataset("/cards/name").dims().at(0));
    d.labels = open_label_columns(d.file, schema, header.num_images, header.max_cards);
    const size_t n = static_cast<size_t>(header.num_images);
    if (d.is_encoded()) {
        d.encoded = d.file.open_dataset("/images_encoded");
        d.encoded_total = d.encoded.dims().at(0);
        d.offsets.resize(n);
        d.sizes.resize(n);
        if (n) d.file.open_dataset("/images_offset").read_rows(0, n, d.offsets.data());
        if (n) d.file.open_dataset("/images_size").read_rows(0, n, d.sizes.data());
    } else {
        d.images = d.file.open_dataset("/images");
    }
    if (header.masks) d.masks = d.file.open_dataset("/masks");
}

SlabReader::~SlabReader() = default;

int64_t SlabReader::slab_images(bool masks, int64_t budget_bytes) const {
    const Impl& d = *impl_;
    int64_t per_image = d.is_encoded() ? 1 : static_cast<int64_t>(d.pixels()) * 3;
    if (d.is_encoded() && !d.sizes.empty())
        per_image = static_cast<int64_t>(
            std::accumulate(d.sizes.begin(), d.sizes.end(), uint64_t{0}) / d.sizes.size() + 1);
    if (masks) per_image += static_cast<int64_t>(d.pixels());
    return std::clamp<int64_t>(budget_bytes / per_image, 1, 4096);
}

void SlabReader::read(int64_t begin, int64_t end, bool masks, Slab& slab) const {
    const Impl& d = *impl_;
    if (begin < 0 || end < begin || end > d.header.num_images)
        throw DatasetError("images [" + std::to_string(begin) + ", " + std::to_string(end) +
                           ") are outside '" + d.path + "' (attribute 'num_images' is " +
                           std::to_string(d.header.num_images) + ")");
    slab.begin = begin;
    slab.end = end;
    d.read_labels(slab);
    if (d.is_encoded())
        d.read_encoded(slab);
    else
        d.read_raw(slab);
    if (masks && d.header.masks) {
        slab.masks.resize(static_cast<size_t>(slab.images()) * d.pixels());
        d.masks.read_rows(static_cast<uint64_t>(begin), static_cast<uint64_t>(slab.images()),
                          slab.masks.data());
    }
}

void SlabReader::Impl::read_labels(Slab& slab) const {
    const size_t n = static_cast<size_t>(slab.images());
    const auto rows = [&](size_t c) {
        std::vector<uint8_t> bytes(
            n * static_cast<size_t>(schema[c].bytes_per_image(header.max_cards)));
        labels[c].read_rows_raw(h5_type(schema[c].type), H5P_DEFAULT,
                                static_cast<uint64_t>(slab.begin), n, bytes.data());
        return bytes;
    };
    const std::vector<uint8_t> counts = rows(schema.index_of("count"));
    slab.labels.assign(n, {});
    for (size_t j = 0; j < n; ++j) {
        uint16_t count = 0;
        std::memcpy(&count, counts.data() + 2 * j, sizeof count);
        if (count > header.max_cards)
            throw DatasetError("image " + std::to_string(slab.begin + j) + " of '" + path +
                               "' has count " + std::to_string(count) + " over max_cards " +
                               std::to_string(header.max_cards));
        slab.labels[j].resize(count);
    }
    for (size_t c = 0; c < schema.size(); ++c) {
        const LabelColumn& column = schema[c];
        if (column.extent != LabelExtent::PerSlot || !column.read_slot) continue;
        const std::vector<uint8_t> bytes = rows(c);
        const size_t per_image = static_cast<size_t>(column.bytes_per_image(header.max_cards));
        for (size_t j = 0; j < n; ++j)
            for (size_t k = 0; k < slab.labels[j].size(); ++k)
                column.read_slot(bytes.data() + j * per_image + k * column.bytes_per_entry(),
                                 slab.labels[j][k]);
    }
    for (size_t j = 0; j < n && card_ids; ++j)
        check_card_ids(slab.labels[j], slab.begin + static_cast<int64_t>(j), cards, path);
}

// Images are stored in the order their rounds were written, not by index: the slab's images are
// read in runs of neighbouring bytes, one HDF5 call per run.
void SlabReader::Impl::read_encoded(Slab& slab) const {
    constexpr uint64_t kGap = 1 << 20;  // bytes between two images worth reading past
    const size_t n = static_cast<size_t>(slab.images());
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    const auto at = [&](size_t j) { return static_cast<size_t>(slab.begin) + j; };
    for (size_t j = 0; j < n; ++j) {
        const uint64_t off = offsets[at(j)], size = sizes[at(j)];
        if (off > encoded_total || size > encoded_total - off)
            throw DatasetError("image " + std::to_string(at(j)) + " of '" + path +
                               "' points at bytes [" + std::to_string(off) + ", " +
                               std::to_string(off + size) + ") past /images_encoded (" +
                               std::to_string(encoded_total) + " bytes)");
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return offsets[at(a)] < offsets[at(b)]; });
    slab.bytes.assign(n, nullptr);
    slab.sizes.assign(n, 0);
    slab.buffers.clear();
    for (size_t r = 0; r < n;) {
        const uint64_t start = offsets[at(order[r])];
        uint64_t stop = start + sizes[at(order[r])];
        size_t e = r + 1;
        for (; e < n && offsets[at(order[e])] <= stop + kGap; ++e)
            stop = std::max(stop, offsets[at(order[e])] + sizes[at(order[e])]);
        std::vector<uint8_t>& buffer = slab.buffers.emplace_back(stop - start);
        if (stop > start) encoded.read_rows(start, stop - start, buffer.data());
        for (size_t k = r; k < e; ++k) {
            slab.bytes[order[k]] = buffer.data() + (offsets[at(order[k])] - start);
            slab.sizes[order[k]] = sizes[at(order[k])];
        }
        r = e;
    }
}

void SlabReader::Impl::read_raw(Slab& slab) const {
    const size_t n = static_cast<size_t>(slab.images()), frame = pixels() * 3;
    slab.buffers.assign(1, std::vector<uint8_t>(n * frame));
    images.read_rows(static_cast<uint64_t>(slab.begin), n, slab.buffers[0].data());
    slab.bytes.resize(n);
    slab.sizes.assign(n, frame);
    for (size_t j = 0; j < n; ++j) slab.bytes[j] = slab.buffers[0].data() + j * frame;
}

}  // namespace cardsynth
