// COCO detection/keypoint JSON, one file per split: images, categories with the four corner
// keypoints, and one annotation per card kept, with cardsynth's extras (bbox_full,
// visible_fraction, card_name, card_id).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "export/geometry.h"
#include "render/labels.h"

namespace cardsynth {

// One card's annotation before its id is known (ids are given in image order at the end).
struct CocoAnnotation {
    CardLabel card;
    int category = 0;
    int64_t area = 0;  // visible pixels
    std::string rle;   // compressed counts, when the region came from /masks
    Polygon polygon;   // the outline in pixels, otherwise
};

// What the JSON files share.
struct CocoContext {
    int width = 0, height = 0;
    std::string extension;                // jpg or png
    std::vector<std::string> categories;  // names, id = position
    const std::vector<std::string>* card_names = nullptr;
    std::string source;  // the dataset file
    uint64_t seed = 0;
};

// The file name of image i: its index zero-padded to at least 6 digits, then `extension`.
std::string image_file_name(int64_t i, const std::string& extension);

// Writes one split's JSON to `path`: `images` are the split's image indices in order, `first_id`
// the id of each image's first annotation (ids do not depend on how the work was shared out).
void write_coco_json(const std::string& path, const CocoContext& context,
                     const std::vector<int64_t>& images,
                     const std::vector<std::vector<CocoAnnotation>>& annotations,
                     const std::vector<int64_t>& first_id);

}  // namespace cardsynth
