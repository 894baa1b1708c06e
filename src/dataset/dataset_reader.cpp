#include "dataset/dataset_reader.h"

#include <filesystem>

#include "base/error.h"
#include "dataset/hdf5_handle.h"
#include "encode/encode.h"

namespace cardsynth {

struct DatasetReader::Impl {
    std::string path;
    h5::File file;  // first member: destroyed after every dataset of it
    DatasetHeader header;
    CardTable cards;
    bool complete = false;
    std::string schema;
    h5::Dataset images, images_encoded, images_offset, images_size, done;
    h5::Dataset count, card_id, corners, corner_visible, bbox, bbox_full, visible_fraction;

    bool encoded() const { return header.storage != Storage::Raw; }
    void check_index(int64_t i) const {
        if (i < 0 || i >= header.num_images) {
            throw DatasetError("image " + std::to_string(i) + " is outside '" + path + "' (" +
                               std::to_string(header.num_images) + " images)");
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
        for (h5::Dataset* d :
             {&images, &images_encoded, &images_offset, &images_size, &done, &count, &card_id,
              &corners, &corner_visible, &bbox, &bbox_full, &visible_fraction}) {
            try {
                if (d->valid()) d->close();
            } catch (const std::exception&) {
                // Closing a read-only file cannot lose data; nothing to report.
            }
        }
    }
};

DatasetReader::DatasetReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    Impl& d = *impl_;
    d.path = path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw DatasetError("dataset '" + path + "' not found");
    d.file = h5::File::open_read(path);
    if (!d.file.has_attribute("schema")) {
        throw DatasetError("'" + path + "' is not a cardsynth dataset (no schema attribute)");
    }
    d.schema = d.file.read_string_attribute("schema");
    if (d.schema != kSchema) {
        throw DatasetError("'" + path + "' has schema '" + d.schema + "', expected '" + kSchema +
                           "'");
    }
    DatasetHeader& h = d.header;
    h.seed = d.file.read_uint_attribute("seed");
    h.num_images = d.file.read_int_attribute("num_images");
    h.width = static_cast<int>(d.file.read_int_attribute("width"));
    h.height = static_cast<int>(d.file.read_int_attribute("height"));
    h.max_cards = static_cast<int>(d.file.read_int_attribute("max_cards"));
    h.masks = d.file.read_int_attribute("masks") != 0;
    const std::string storage = d.file.read_string_attribute("storage");
    try {
        h.storage = parse_storage(storage, "storage");
    } catch (const ConfigError&) {
        throw DatasetError("'" + path + "' has an unknown storage '" + storage + "'");
    }
    h.generator_version = d.file.read_string_attribute("generator_version");
    h.created_utc = d.file.read_string_attribute("created_utc");
    h.config_yaml = d.file.open_dataset("/config").read_scalar_string();
    d.complete = d.file.read_int_attribute("complete") != 0;

    d.cards.names = d.file.open_dataset("/cards/name").read_strings();
    d.cards.sources = d.file.open_dataset("/cards/source").read_strings();
    d.cards.ranks = d.read_all<int32_t>(d.file.open_dataset("/cards/rank"));
    d.cards.weights = d.read_all<double>(d.file.open_dataset("/cards/weight"));

    if (d.encoded()) {
        d.images_encoded = d.file.open_dataset("/images_encoded");
        d.images_offset = d.file.open_dataset("/images_offset");
        d.images_size = d.file.open_dataset("/images_size");
    } else {
        d.images = d.file.open_dataset("/images");
    }
    d.done = d.file.open_dataset("/done");
    d.count = d.file.open_dataset("/labels/count");
    d.card_id = d.file.open_dataset("/labels/card_id");
    d.corners = d.file.open_dataset("/labels/corners");
    d.corner_visible = d.file.open_dataset("/labels/corner_visible");
    d.bbox = d.file.open_dataset("/labels/bbox");
    d.bbox_full = d.file.open_dataset("/labels/bbox_full");
    d.visible_fraction = d.file.open_dataset("/labels/visible_fraction");
}

DatasetReader::~DatasetReader() = default;

const DatasetHeader& DatasetReader::header() const {
    return impl_->header;
}
bool DatasetReader::complete() const {
    return impl_->complete;
}
std::string DatasetReader::schema() const {
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
    d.check_index(i);
    const uint64_t row = static_cast<uint64_t>(i);
    const size_t m = static_cast<size_t>(d.header.max_cards);
    uint16_t count = 0;
    d.count.read_rows(row, 1, &count);
    if (count > m) {
        throw DatasetError("image " + std::to_string(i) + " of '" + d.path + "' has count " +
                           std::to_string(count) + " over max_cards " + std::to_string(m));
    }
    std::vector<int32_t> ids(m);
    std::vector<float> corners(m * 8), bbox(m * 4), bbox_full(m * 4), fraction(m);
    std::vector<uint8_t> visible(m * 4);
    d.card_id.read_rows(row, 1, ids.data());
    d.corners.read_rows(row, 1, corners.data());
    d.corner_visible.read_rows(row, 1, visible.data());
    d.bbox.read_rows(row, 1, bbox.data());
    d.bbox_full.read_rows(row, 1, bbox_full.data());
    d.visible_fraction.read_rows(row, 1, fraction.data());

    ImageLabels out;
    out.cards.resize(count);
    for (size_t k = 0; k < count; ++k) {
        CardLabel& c = out.cards[k];
        c.card_id = ids[k];
        std::copy_n(&corners[k * 8], 8, c.corners.begin());
        std::copy_n(&visible[k * 4], 4, c.corner_visible.begin());
        std::copy_n(&bbox[k * 4], 4, c.bbox.begin());
        std::copy_n(&bbox_full[k * 4], 4, c.bbox_full.begin());
        c.visible_fraction = fraction[k];
    }
    return out;
}

std::vector<int32_t> DatasetReader::all_card_ids() const {
    // Only slots that hold a card of a written image: an unfinished file has unwritten rows.
    const Impl& d = *impl_;
    const std::vector<uint8_t> done = this->done();
    const std::vector<uint16_t> counts = d.read_all<uint16_t>(d.count);
    const std::vector<int32_t> ids = d.read_all<int32_t>(d.card_id);
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
