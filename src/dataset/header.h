// The root attributes and /config of a dataset file, read and written in one place, for the
// writer (create, resume) and the reader alike. Only the dataset sources include this header.
#pragma once

#include "dataset/dataset.h"
#include "dataset/hdf5_handle.h"
#include "render/labels.h"

namespace cardsynth {

// Writes every root attribute of docs/FORMAT.md (`complete` = 0) and /config. Collective under
// MPI-IO; only the rank with `root` set carries /config's bytes.
void write_header(h5::File& file, const DatasetHeader& header, const h5::Transfer& xfer, bool root);
// Reads them back; throws DatasetError naming the file when it is not a cardsynth/1 dataset.
// Integer attributes are range-checked here (width, height and max_cards fit an int, num_images
// is not negative), before anything sizes a buffer from them.
DatasetHeader read_header(const h5::File& file);
// Checks the attributes of `header` against the datasets they describe, before any read sizes a
// buffer from them: num_images against the first axis of /done and of the image datasets,
// width and height against /images and /masks, storage and masks against which datasets exist,
// and the /cards columns against each other. Throws DatasetError naming the file, the attribute
// and both numbers. The label columns are checked by open_label_columns.
void check_datasets(const h5::File& file, const DatasetHeader& header);
// /cards and the input record (/popularity), after check_datasets. Names and sources come back
// as stored (valid UTF-8 in a file of this version), their bytes from the _bytes columns, or
// copies of them in a file made before those; `files` is empty in a file without the record.
CardTable read_cards(const h5::File& file);
// Throws DatasetError unless every placed card of image `image` (the first `count` slots) has a
// card id that indexes /cards (`cards` entries): readers look names up by it.
void check_card_ids(const std::vector<CardLabel>& placed, int64_t image, size_t cards,
                    const std::string& path);

}  // namespace cardsynth
