#include "dataset/dataset_reader.h"

#include <cstring>
#include <filesystem>

#include "base/error.h"
#include "dataset/hdf5_handle.h"
#include "dataset/header.h"
#include "dataset/label_columns.h"
#include "encode/encode.h"

namespace cardsynth {

struct DatasetReader::Impl {
    std::string path;
    h5::File file;  // first member: destroyed after every dataset of it
    DatasetHeader header;
    CardTable cards;
    bool complete = false;
    LabelSchema schema;
    h5::Dataset images, images_encoded, images_offset, images_size, done;
    std::vector<h5::Dataset> labels;  // in schema order
    bool card_ids = false;            // the schema reads card ids, which index /cards

    bool encoded() const { return header.storage != Storage::Raw; }
    void check_index(int64_t i) const {
        if (i < 0 || i >= header.num_images) {
            throw DatasetError("image " + std::to_string(i) + " is outside '" + path +
                               "' (attribute 'num_images' is " + std::to_string(header.num_images) +
                               ")");
        }
    }
    template <class T>
    std::vector<T> read_all(const h5::Dataset& d) const {
        std::vector<hsize_t> dims = d.dims();
        size_t n = 1;
        for (hsize_t x : dims) n *= x;
        std::vector<T> out(n);
        if (n) d.read_rows(0, dims.at(0), out.data());
        return out;
    }

    ~Impl() {
        std::vector<h5::Dataset*> all{&images, &images_encoded, &images_offset, &images_size,
                                      &done};
        for (h5::Dataset& d : labels) all.push_back(&d);
        for (h5::Dataset* d : all) {
            try {
                if (d->valid()) d->close();
            } catch (const std::exception&) {
                // Closing a read-only file cannot lose data; nothing to report.
            }
        }
    }
    // Image i's entries of column c, as stored.
    std::vector<uint8_t> row(size_t c, int64_t i) const {
        check_index(i);
        std::vector<uint8_t> bytes(
            static_cast<size_t>(schema[c].bytes_per_image(header.max_cards)));
        labels[c].read_rows_raw(h5_type(schema[c].type), H5P_DEFAULT, static_cast<uint64_t>(i), 1,
                                bytes.data());
        return bytes;
    }
};

DatasetReader::DatasetReader(const std::string& path, const LabelSchema& labels)
    : impl_(std::make_unique<Impl>()) {
    Impl& d = *impl_;
    d.path = path;
    d.schema = labels;
    for (const LabelColumn& c : labels.columns())
        if (std::string(c.name) == "card_id") d.card_ids = true;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw DatasetError("dataset '" + path + "' not found");
    d.file = h5::File::open_read(path);
    d.header = read_header(d.file);
    // Before any read: every buffer below is sized from the attributes.
    check_datasets(d.file, d.header);
    d.complete = d.file.read_int_attribute("complete") != 0;

    d.cards = read_cards(d.file);

    if (d.encoded()) {
        d.images_encoded = d.file.open_dataset("/images_encoded");
        d.images_offset = d.file.open_dataset("/images_offset");
        d.images_size = d.file.open_dataset("/images_size");
    } else {
        d.images = d.file.open_dataset("/images");
    }
    d.done = d.file.open_dataset("/done");
    d.labels = open_label_columns(d.file, labels, d.header.num_images, d.header.max_cards);
}

DatasetReader::~DatasetReader() = default;

const DatasetHeader& DatasetReader::header() const {
    return impl_->header;
}
bool DatasetReader::complete() const {
    return impl_->complete;
}
std::string DatasetReader::schema() const {
    return kSchema;  // read_header refuses every other
}
const LabelSchema& DatasetReader::label_schema() const {
    return impl_->schema;
}
const CardTable& DatasetReader::cards() const {
    return impl_->cards;
}

std::vector<uint8_t> DatasetReader::done() const {
    return impl_->read_all<uint8_t>(impl_->done);
}

cv::Mat DatasetReader::image(int64_t i) const {
    const Impl& d = *impl_;
    d.check_index(i);
    if (d.encoded()) {
        std::vector<uint8_t> bytes = image_bytes(i);
        cv::Mat rgb = decode_image(bytes.data(), bytes.size());
        if (rgb.rows != d.header.height || rgb.cols != d.header.width) {
            throw DatasetError("image " + std::to_string(i) + " of '" + d.path + "' decodes to " +
                               std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows) +
                               ", expected " + std::to_string(d.header.width) + "x" +
                               std::to_string(d.header.height));
        }
        return rgb;
    }
    cv::Mat rgb(d.header.height, d.header.width, CV_8UC3);
    d.images.read_rows(static_cast<uint64_t>(i), 1, rgb.ptr<uint8_t>());
    return rgb;
}

std::vector<uint8_t> DatasetReader::image_bytes(int64_t i) const {
    const Impl& d = *impl_;
    d.check_index(i);
    if (!d.encoded()) {
        std::vector<uint8_t> bytes(static_cast<size_t>(d.header.height) * d.header.width * 3);
        d.images.read_rows(static_cast<uint64_t>(i), 1, bytes.data());
        return bytes;
    }
    uint64_t offset = 0, size = 0;
    d.images_offset.read_rows(static_cast<uint64_t>(i), 1, &offset);
    d.images_size.read_rows(static_cast<uint64_t>(i), 1, &size);
    const uint64_t total = d.images_encoded.dims().at(0);
    if (offset > total || size > total - offset) {
        throw DatasetError("image " + std::to_string(i) + " of '" + d.path + "' points at bytes [" +
                           std::to_string(offset) + ", " + std::to_string(offset + size) +
                           ") past /images_encoded (" + std::to_string(total) + " bytes)");
    }
    std::vector<uint8_t> bytes(size);
    if (size) d.images_encoded.read_rows(offset, size, bytes.data());
    return bytes;
}

ImageLabels DatasetReader::labels(int64_t i) const {
    const Impl& d = *impl_;
    uint16_t count = 0;
    const std::vector<uint8_t> count_row = d.row(d.schema.index_of("count"), i);
    std::memcpy(&count, count_row.data(), sizeof count);
    if (count > d.header.max_cards) {
        throw DatasetError("image " + std::to_string(i) + " of '" + d.path + "' has count " +
                           std::to_string(count) + " over max_cards " +
                           std::to_string(d.header.max_cards));
    }
    ImageLabels out;
    out.cards.resize(count);
    for (size_t c = 0; c < d.schema.size(); ++c) {
        const LabelColumn& column = d.schema[c];
        if (column.extent != LabelExtent::PerSlot || !column.read_slot) continue;
        const std::vector<uint8_t> bytes = d.row(c, i);
        for (size_t k = 0; k < count; ++k)
            column.read_slot(bytes.data() + k * column.bytes_per_entry(), out.cards[k]);
    }
    if (d.card_ids) check_card_ids(out.cards, i, d.cards.names.size(), d.path);
    return out;
}

std::vector<uint8_t> DatasetReader::label_bytes(const std::string& column, int64_t i) const {
    return impl_->row(impl_->schema.index_of(column), i);
}

std::vector<int32_t> DatasetReader::all_card_ids() const {
    // Only slots that hold a card of a written image: an unfinished file has unwritten rows.
    const Impl& d = *impl_;
    const std::vector<uint8_t> done = this->done();
    // open_label_columns checked both types.
    const std::vector<uint16_t> counts = d.read_all<uint16_t>(d.labels[d.schema.index_of("count")]);
    const std::vector<int32_t> ids = d.read_all<int32_t>(d.labels[d.schema.index_of("card_id")]);
    const size_t m = static_cast<size_t>(d.header.max_cards);
    std::vector<int32_t> out;
    for (size_t i = 0; i < done.size(); ++i) {
        if (!done[i]) continue;
        const size_t n = std::min<size_t>(counts[i], m);
        out.insert(out.end(), ids.begin() + i * m, ids.begin() + i * m + n);
    }
    return out;
}

}  // namespace cardsynth
