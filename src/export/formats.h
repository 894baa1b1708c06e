// The export formats, declared once: each row names a format, says what it writes and what it
// needs, and points at its per-image label writer. The command's option check, its --help text,
// the directory layout and the work per image all come from this table.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "export/coco.h"
#include "render/labels.h"

namespace cardsynth {

// One image as a label writer sees it.
struct ExportImage {
    int64_t index = 0;
    int width = 0, height = 0;
    const std::vector<CardLabel>* cards = nullptr;  // every card placed, in painter's order
    std::vector<int> kept;                          // the slots that get a label
    const cv::Mat* slots = nullptr;  // CV_8U slot map (k + 1 where slot k is seen), when needed
    bool slots_from_masks = false;   // the slot map is /masks (not painted from the quads)
    bool class_per_card = false;     // class id = card id (else every card is class 0)

    int class_of(const CardLabel& card) const { return class_per_card ? card.card_id : 0; }
};

// What a writer makes of one image: a YOLO label file's text, or COCO annotations.
struct ImageOutput {
    std::string label_text;
    std::vector<CocoAnnotation> annotations;
};

enum class Layout {
    Yolo,  // labels/<split>/<name>.txt and data.yaml
    Coco   // annotations/<split>.json
};

struct ExportFormat {
    const char* name;
    const char* description;  // for --help
    Layout layout;
    bool needs_region;       // the writer reads the slot map (visible pixels)
    const char* yaml_extra;  // lines added to data.yaml
    void (*write)(const ExportImage& image, ImageOutput& out);
};

const std::vector<ExportFormat>& export_formats();
// The format called `name`; a ConfigError listing the formats when there is none.
const ExportFormat& find_format(const std::string& name);
// "yolo-detect: ..., yolo-obb: ..." for --help.
std::string formats_help();

}  // namespace cardsynth
