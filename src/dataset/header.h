// The root attributes and /config of a dataset file, read and written in one place, for the
// writer (create, resume) and the reader alike. Only the dataset sources include this header.
#pragma once

#include "dataset/dataset.h"
#include "dataset/hdf5_handle.h"

namespace cardsynth {

// Writes every root attribute of docs/FORMAT.md (`complete` = 0) and /config. Collective under
// MPI-IO; only the rank with `root` set carries /config's bytes.
void write_header(h5::File& file, const DatasetHeader& header, const h5::Transfer& xfer, bool root);
// Reads them back; throws DatasetError naming the file when it is not a cardsynth/1 dataset.
DatasetHeader read_header(const h5::File& file);

}  // namespace cardsynth
