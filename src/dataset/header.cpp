#include "dataset/header.h"

#include <cstring>
#include <iterator>
#include <limits>

#include "base/error.h"

namespace cardsynth {
namespace {

// The frame and slot limits a reader accepts: wider than what generate writes (frame sides of
// 16..16384, up to 254 slots), but small enough that W x H x 3 and M x a label entry fit.
constexpr int64_t kMaxSide = 1 << 16;
constexpr int64_t kMaxSlots = std::numeric_limits<uint16_t>::max();

int64_t attribute_in(const h5::File& file, const char* name, int64_t lo, int64_t hi) {
    const int64_t value = file.read_int_attribute(name);
    if (value < lo || value > hi)
        throw DatasetError("attribute '" + std::string(name) + "' of '" + file.path() + "' is " +
                           std::to_string(value) + ", expected " + std::to_string(lo) + ".." +
                           std::to_string(hi));
    return value;
}

std::string dims_text(const std::vector<hsize_t>& dims) {
    std::string out = "[";
    for (size_t a = 0; a < dims.size(); ++a) out += (a ? ", " : "") + std::to_string(dims[a]);
    return out + "]";
}

// One axis of a dataset's expected shape, and the root attribute that sets it (none: fixed).
struct Axis {
    int64_t size;
    const char* attribute;
};

void expect_shape(const h5::File& file, const std::string& name, const std::vector<Axis>& want) {
    const std::vector<hsize_t> got = file.open_dataset(name).dims();
    std::string wanted = "[";
    for (size_t a = 0; a < want.size(); ++a)
        wanted += (a ? ", " : "") +
                  (want[a].attribute ? std::string(want[a].attribute) + " = " : std::string()) +
                  std::to_string(want[a].size);
    wanted += "]";
    const std::string where = "'" + name + "' in '" + file.path() + "'";
    if (got.size() != want.size())
        throw DatasetError(where + " has shape " + dims_text(got) + ", expected " + wanted);
    for (size_t a = 0; a < want.size(); ++a) {
        if (got[a] == static_cast<hsize_t>(want[a].size)) continue;
        if (want[a].attribute)
            throw DatasetError(where + " has " + std::to_string(got[a]) + " along axis " +
                               std::to_string(a) + ", but attribute '" + want[a].attribute +
                               "' is " + std::to_string(want[a].size));
        throw DatasetError(where + " has shape " + dims_text(got) + ", expected " + wanted);
    }
}

// The input record's columns, one entry per row of /cards or /popularity; and the columns that
// hold each name's bytes, a zero-padded row of at most kMaxNameBytes per entry (a path is at most
// PATH_MAX; the bound keeps a crafted width from sizing a huge buffer).
constexpr const char* kRecordColumns[] = {"file_size", "file_mtime_ns", "file_hash"};
constexpr const char* kBytesColumns[] = {"name_bytes", "source_bytes"};
constexpr hsize_t kMaxNameBytes = 1 << 16;

bool has_record(const h5::File& file) {
    return file.exists("/cards/file_hash");
}

// Every column of `group` that the file has is one list of `rows` entries (card ids index every
// column of /cards; the record is read row by row).
void check_rows(const h5::File& file, const std::string& group,
                const std::vector<std::string>& columns, int64_t rows, const std::string& by) {
    for (const std::string& column : columns) {
        const std::string name = group + "/" + column;
        if (!file.exists(name)) continue;
        const std::vector<hsize_t> got = file.open_dataset(name).dims();
        const bool bytes = column.size() > 6 && column.compare(column.size() - 6, 6, "_bytes") == 0;
        if (got.size() != (bytes ? 2u : 1u) || static_cast<int64_t>(got[0]) != rows)
            throw DatasetError("'" + name + "' in '" + file.path() + "' has shape " +
                               dims_text(got) + ", but " + by + " has " + std::to_string(rows) +
                               " rows");
        if (bytes && (got[1] < 1 || got[1] > kMaxNameBytes))
            throw DatasetError("'" + name + "' in '" + file.path() + "' has shape " +
                               dims_text(got) + ", rows of 1.." + std::to_string(kMaxNameBytes) +
                               " bytes expected");
    }
}

void check_card_columns(const h5::File& file) {
    const std::string& path = file.path();
    const std::vector<hsize_t> names = file.open_dataset("/cards/name").dims();
    if (names.size() != 1)
        throw DatasetError("'/cards/name' in '" + path + "' has shape " + dims_text(names) +
                           ", expected one axis");
    for (const char* column : {"/cards/source", "/cards/rank", "/cards/weight"})
        if (!file.exists(column)) throw DatasetError("'" + path + "' has no '" + column + "'");
    std::vector<std::string> columns{"source", "rank", "weight"};
    columns.insert(columns.end(), std::begin(kBytesColumns), std::end(kBytesColumns));
    if (has_record(file)) {
        for (const char* column : kRecordColumns) {
            if (!file.exists("/cards/" + std::string(column)))
                throw DatasetError("'" + path + "' has '/cards/file_hash' but no '/cards/" +
                                   column + "'");
            columns.push_back(column);
        }
        for (const char* name :
             {"/popularity/source", "/popularity/source_bytes", "/popularity/file_size",
              "/popularity/file_mtime_ns", "/popularity/file_hash"})
            if (!file.exists(name))
                throw DatasetError("'" + path + "' records its inputs but has no '" + name + "'");
        const std::vector<hsize_t> table = file.open_dataset("/popularity/source").dims();
        if (table.size() != 1 || table[0] > 1)
            throw DatasetError("'/popularity/source' in '" + path + "' has shape " +
                               dims_text(table) + ", expected [0] or [1]");
        check_rows(file, "/popularity", {"source_bytes", "file_size", "file_mtime_ns", "file_hash"},
                   static_cast<int64_t>(table[0]), "'/popularity/source'");
    }
    check_rows(file, "/cards", columns, static_cast<int64_t>(names[0]), "'/cards/name'");
}

template <class T>
std::vector<T> read_column(const h5::File& file, const std::string& name) {
    const h5::Dataset d = file.open_dataset(name);
    d.require_stored();
    std::vector<T> out(d.dims().at(0));
    if (!out.empty()) d.read_rows(0, out.size(), out.data());
    return out;
}

// The rows of a _bytes column, each without its zero padding (names hold no zero byte).
std::vector<std::string> read_bytes_column(const h5::File& file, const std::string& name) {
    const h5::Dataset d = file.open_dataset(name);
    d.require_stored();
    const std::vector<hsize_t> dims = d.dims();
    const size_t rows = dims.at(0), width = dims.at(1);
    std::vector<uint8_t> bytes(rows * width);
    if (!bytes.empty()) d.read_rows(0, rows, bytes.data());
    std::vector<std::string> out(rows);
    for (size_t i = 0; i < rows; ++i) {
        const char* row = reinterpret_cast<const char*>(&bytes[i * width]);
        out[i].assign(row, strnlen(row, width));
    }
    return out;
}

std::vector<FileStamp> read_stamps(const h5::File& file, const std::string& group) {
    const std::vector<int64_t> sizes = read_column<int64_t>(file, group + "/file_size");
    const std::vector<int64_t> mtimes = read_column<int64_t>(file, group + "/file_mtime_ns");
    const std::vector<uint64_t> hashes = read_column<uint64_t>(file, group + "/file_hash");
    std::vector<FileStamp> stamps(sizes.size());
    for (size_t i = 0; i < stamps.size(); ++i) stamps[i] = {sizes[i], mtimes[i], hashes[i]};
    return stamps;
}

}  // namespace

CardTable read_cards(const h5::File& file) {
    CardTable cards;
    cards.names = file.open_dataset("/cards/name").read_strings();
    cards.sources = file.open_dataset("/cards/source").read_strings();
    cards.ranks = read_column<int32_t>(file, "/cards/rank");
    cards.weights = read_column<double>(file, "/cards/weight");
    const bool bytes = file.exists("/cards/name_bytes") && file.exists("/cards/source_bytes");
    cards.name_bytes = bytes ? read_bytes_column(file, "/cards/name_bytes") : cards.names;
    cards.source_bytes = bytes ? read_bytes_column(file, "/cards/source_bytes") : cards.sources;
    if (!has_record(file)) return cards;
    cards.files = read_stamps(file, "/cards");
    const std::vector<std::string> table = read_bytes_column(file, "/popularity/source_bytes");
    if (!table.empty()) {
        cards.popularity_path = table[0];
        cards.popularity_file = read_stamps(file, "/popularity").at(0);
    }
    return cards;
}

void write_header(h5::File& file, const DatasetHeader& header, const h5::Transfer& xfer,
                  bool root) {
    file.write_attribute("schema", std::string(kSchema));
    file.write_attribute("generator_version", header.generator_version);
    file.write_attribute("seed", header.seed);
    file.write_attribute("num_images", static_cast<int64_t>(header.num_images));
    file.write_attribute("width", static_cast<int32_t>(header.width));
    file.write_attribute("height", static_cast<int32_t>(header.height));
    file.write_attribute("max_cards", static_cast<int32_t>(header.max_cards));
    file.write_attribute("channel_order", std::string("RGB"));
    file.write_attribute("storage", std::string(to_string(header.storage)));
    file.write_attribute("masks", static_cast<uint8_t>(header.masks ? 1 : 0));
    file.write_attribute("complete", static_cast<uint8_t>(0));
    file.write_attribute("created_utc", header.created_utc);

    h5::Handle type = h5::string_type(header.config_yaml.size() + 1);
    h5::Dataset config = file.create_scalar("/config", type.get());
    config.write_scalar_string(xfer, header.config_yaml, root);
    config.close();
}

DatasetHeader read_header(const h5::File& file) {
    const std::string& path = file.path();
    if (!file.has_attribute("schema")) {
        throw DatasetError("'" + path + "' is not a cardsynth dataset (no schema attribute)");
    }
    const std::string schema = file.read_string_attribute("schema");
    if (schema != kSchema) {
        throw DatasetError("'" + path + "' has schema '" + schema + "', expected '" + kSchema +
                           "'");
    }
    DatasetHeader header;
    header.seed = file.read_uint_attribute("seed");
    header.num_images = attribute_in(file, "num_images", 0, std::numeric_limits<int64_t>::max());
    header.width = static_cast<int>(attribute_in(file, "width", 1, kMaxSide));
    header.height = static_cast<int>(attribute_in(file, "height", 1, kMaxSide));
    header.max_cards = static_cast<int>(attribute_in(file, "max_cards", 1, kMaxSlots));
    header.masks = file.read_int_attribute("masks") != 0;
    const std::string storage = file.read_string_attribute("storage");
    try {
        header.storage = parse_storage(storage, "storage");
    } catch (const ConfigError&) {
        throw DatasetError("'" + path + "' has an unknown storage '" + storage + "'");
    }
    header.generator_version = file.read_string_attribute("generator_version");
    header.created_utc = file.read_string_attribute("created_utc");
    h5::Dataset config = file.open_dataset("/config");
    // A scalar is read whole into one string; any other shape would overrun it.
    if (!config.dims().empty())
        throw DatasetError("'/config' in '" + path + "' has shape " + dims_text(config.dims()) +
                           ", expected a scalar string");
    header.config_yaml = config.read_scalar_string();
    config.close();
    return header;
}

void check_datasets(const h5::File& file, const DatasetHeader& header) {
    const std::string& path = file.path();
    const int64_t n = header.num_images;
    expect_shape(file, "/done", {{n, "num_images"}});

    const bool encoded = header.storage != Storage::Raw;
    const char* stored[] = {"/images", "/images_encoded", "/images_offset", "/images_size"};
    for (const char* name : stored) {
        const bool wanted = encoded != (std::string(name) == "/images");
        if (file.exists(name) != wanted)
            throw DatasetError("attribute 'storage' of '" + path + "' is '" +
                               to_string(header.storage) + "', but the file " +
                               (wanted ? "has no " : "has ") + name);
    }
    if (encoded) {
        expect_shape(file, "/images_offset", {{n, "num_images"}});
        expect_shape(file, "/images_size", {{n, "num_images"}});
        const std::vector<hsize_t> total = file.open_dataset("/images_encoded").dims();
        if (total.size() != 1)
            throw DatasetError("'/images_encoded' in '" + path + "' has shape " + dims_text(total) +
                               ", expected one axis of bytes");
    } else {
        expect_shape(
            file, "/images",
            {{n, "num_images"}, {header.height, "height"}, {header.width, "width"}, {3, nullptr}});
    }
    if (file.exists("/masks") != header.masks)
        throw DatasetError(
            "attribute 'masks' of '" + path + "' is " +
            (header.masks ? "1, but the file has no /masks" : "0, but the file has /masks"));
    if (header.masks)
        expect_shape(file, "/masks",
                     {{n, "num_images"}, {header.height, "height"}, {header.width, "width"}});

    check_card_columns(file);
}

void check_card_ids(const std::vector<CardLabel>& placed, int64_t image, size_t cards,
                    const std::string& path) {
    for (size_t k = 0; k < placed.size(); ++k) {
        const int32_t id = placed[k].card_id;
        if (id < 0 || static_cast<size_t>(id) >= cards)
            throw DatasetError("image " + std::to_string(image) + " of '" + path +
                               "' has card_id " + std::to_string(id) + " in slot " +
                               std::to_string(k) + ", outside /cards (" + std::to_string(cards) +
                               " cards)");
    }
}

}  // namespace cardsynth
