// The HDF5 side of a LabelSchema: the datasets under /labels, created, opened and checked from
// the table, for the writer and the reader alike. Only the dataset sources include this header.
#pragma once

#include <cstdint>
#include <vector>

#include "dataset/hdf5_handle.h"
#include "dataset/label_schema.h"

namespace cardsynth {

// The attribute of /labels that carries LabelSchema::to_json().
constexpr const char* kLabelColumnsAttribute = "columns";

hid_t h5_type(ElementType type);

// The file shape of `column` for `num_images` images of `max_cards` slots.
std::vector<hsize_t> column_dims(const LabelColumn& column, int64_t num_images, int max_cards);

// Creates the group /labels, its description attribute and every column, in schema order.
// Collective.
std::vector<h5::Dataset> create_label_columns(h5::File& file, const LabelSchema& schema,
                                              int64_t num_images, int max_cards);

// Opens every column of `schema`, in its order; throws DatasetError naming the file and the
// column when one is missing or has another type or shape. A file may hold more columns.
std::vector<h5::Dataset> open_label_columns(const h5::File& file, const LabelSchema& schema,
                                            int64_t num_images, int max_cards);

// Throws unless the file's description (when it has one: files of older versions do not) lists
// exactly the columns of `schema`: a writer that finishes a file must fill all of them.
void check_same_columns(const h5::File& file, const LabelSchema& schema);

}  // namespace cardsynth
