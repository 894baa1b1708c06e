#include "dataset/label_columns.h"

#include <algorithm>

#include "base/error.h"

namespace cardsynth {
namespace {

std::string dims_text(const std::vector<hsize_t>& dims) {
    std::string out = "[";
    for (size_t a = 0; a < dims.size(); ++a) out += (a ? ", " : "") + std::to_string(dims[a]);
    return out + "]";
}

// The padding of one element, stored as the column's type: HDF5's fill value.
std::vector<uint8_t> padding_element(const LabelColumn& column) {
    std::vector<uint8_t> out(static_cast<size_t>(element_size(column.type)));
    store_element(column.type, column.padding, out.data());
    return out;
}

}  // namespace

hid_t h5_type(ElementType type) {
    switch (type) {
        case ElementType::UInt8:
            return h5::native_type<uint8_t>();
        case ElementType::UInt16:
            return h5::native_type<uint16_t>();
        case ElementType::Int32:
            return h5::native_type<int32_t>();
        case ElementType::Float32:
            return h5::native_type<float>();
    }
    throw DatasetError("unknown label element type");
}

std::vector<hsize_t> column_dims(const LabelColumn& column, int64_t num_images, int max_cards) {
    std::vector<hsize_t> dims{static_cast<hsize_t>(num_images)};
    if (column.extent == LabelExtent::PerSlot) dims.push_back(static_cast<hsize_t>(max_cards));
    for (int a = 0; a < column.shape.rank; ++a)
        dims.push_back(static_cast<hsize_t>(column.shape.dims[a]));
    return dims;
}

std::vector<h5::Dataset> create_label_columns(h5::File& file, const LabelSchema& schema,
                                              int64_t num_images, int max_cards) {
    file.create_group("/labels");
    file.write_attribute_of("/labels", kLabelColumnsAttribute, schema.to_json());
    std::vector<h5::Dataset> out;
    for (const LabelColumn& c : schema.columns()) {
        // The fill value documents the padding; it is not written (fill time never), because
        // every image's rows are written whole, padding included, before its /done bit is set.
        h5::DatasetOptions options;
        const std::vector<uint8_t> fill = padding_element(c);
        if (c.padding != 0) options.fill_value = fill.data();
        out.push_back(file.create_dataset(c.path(), h5_type(c.type),
                                          column_dims(c, num_images, max_cards), options));
    }
    return out;
}

std::vector<h5::Dataset> open_label_columns(const h5::File& file, const LabelSchema& schema,
                                            int64_t num_images, int max_cards) {
    std::vector<h5::Dataset> out;
    for (const LabelColumn& c : schema.columns()) {
        h5::Dataset d = file.open_dataset(c.path());
        const std::string where = "'" + c.path() + "' in '" + file.path() + "'";
        const std::string type = d.type_name();
        if (type != type_name(c.type))
            throw DatasetError(where + " is " + type + ", expected " + type_name(c.type));
        const std::vector<hsize_t> want = column_dims(c, num_images, max_cards), got = d.dims();
        // Name the root attribute that disagrees: every read of a row is sized from them.
        const auto disagrees = [&](size_t axis, const char* attribute, int64_t value) {
            if (got.size() == want.size() && got[axis] != want[axis])
                throw DatasetError(where + " has " + std::to_string(got[axis]) + " along axis " +
                                   std::to_string(axis) + ", but attribute '" + attribute +
                                   "' is " + std::to_string(value));
        };
        disagrees(0, "num_images", num_images);
        if (c.extent == LabelExtent::PerSlot) disagrees(1, "max_cards", max_cards);
        if (got != want)
            throw DatasetError(where + " has shape " + dims_text(got) + ", expected " +
                               dims_text(want));
        out.push_back(std::move(d));
    }
    return out;
}

void check_same_columns(const h5::File& file, const LabelSchema& schema) {
    if (!file.has_attribute_of("/labels", kLabelColumnsAttribute)) return;
    const std::string stored = file.read_string_attribute_of("/labels", kLabelColumnsAttribute);
    if (stored != schema.to_json())
        throw DatasetError("the label columns of '" + file.path() +
                           "' (the 'columns' attribute of /labels) are not the ones this program "
                           "writes:\n" +
                           stored + "\nexpected:\n" + schema.to_json());
}

}  // namespace cardsynth
