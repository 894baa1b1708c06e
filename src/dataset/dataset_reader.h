// Reading a cardsynth/1 file in one process (preview, inspect, resume checks and tests).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "dataset/dataset.h"
#include "render/labels.h"

namespace cardsynth {

class DatasetReader {
  public:
    // Opens read-only; throws DatasetError naming the file when it is missing or not cardsynth/1,
    // or when a column of `labels` is missing or has another type or shape.
    explicit DatasetReader(const std::string& path,
                           const LabelSchema& labels = default_label_schema());
    ~DatasetReader();

    const DatasetHeader& header() const;
    bool complete() const;
    std::string schema() const;
    const CardTable& cards() const;
    std::vector<uint8_t> done() const;

    // Image i as RGB8 (decoded when stored encoded).
    cv::Mat image(int64_t i) const;
    // The stored bytes of image i (raw pixels or the encoded file), for hashing.
    std::vector<uint8_t> image_bytes(int64_t i) const;
    const LabelSchema& label_schema() const;
    // Image i's labels; cards carry the columns that have a CardLabel field (read_slot).
    ImageLabels labels(int64_t i) const;
    // Image i's entries of label column `column` as stored (all slots, padding included).
    std::vector<uint8_t> label_bytes(const std::string& column, int64_t i) const;
    // Card ids of every image, flattened (for the popularity report).
    std::vector<int32_t> all_card_ids() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace cardsynth
