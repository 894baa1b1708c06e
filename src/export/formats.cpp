#include "export/formats.h"

#include <opencv2/core.hpp>

#include "base/error.h"
#include "export/rle.h"
#include "export/yolo.h"

namespace cardsynth {
namespace {

// The visible box as a polygon: the fallback outline of a region too thin to have one.
Polygon box_polygon(const std::array<float, 4>& b) {
    return {{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}};
}

Polygon card_outline(const ExportImage& image, int slot) {
    const CardLabel& card = (*image.cards)[slot];
    Polygon outline = region_outline(*image.slots, static_cast<uint8_t>(slot + 1),
                                     box_roi(card.bbox, image.width, image.height));
    return outline.size() >= 3 ? outline : box_polygon(card.bbox);
}

void write_detect(const ExportImage& image, ImageOutput& out) {
    for (int k : image.kept) {
        const CardLabel& card = (*image.cards)[k];
        out.label_text += yolo_box_line(image.class_of(card), card.bbox, image.width, image.height);
    }
}

void write_obb(const ExportImage& image, ImageOutput& out) {
    for (int k : image.kept) {
        const CardLabel& card = (*image.cards)[k];
        Polygon box = oriented_box(card, image.width, image.height);
        if (box.size() != 4) box = box_polygon(card.bbox);
        out.label_text += yolo_polygon_line(image.class_of(card), box, image.width, image.height);
    }
}

void write_pose(const ExportImage& image, ImageOutput& out) {
    for (int k : image.kept) {
        const CardLabel& card = (*image.cards)[k];
        out.label_text += yolo_pose_line(image.class_of(card), card, image.width, image.height);
    }
}

void write_seg(const ExportImage& image, ImageOutput& out) {
    for (int k : image.kept) {
        const CardLabel& card = (*image.cards)[k];
        out.label_text += yolo_polygon_line(image.class_of(card), card_outline(image, k),
                                            image.width, image.height);
    }
}

void write_coco(const ExportImage& image, ImageOutput& out) {
    for (int k : image.kept) {
        CocoAnnotation a;
        a.card = (*image.cards)[k];
        a.category = image.class_of(a.card);
        const cv::Rect roi = box_roi(a.card.bbox, image.width, image.height);
        if (image.slots_from_masks) {
            const std::vector<uint32_t> runs = slot_runs(*image.slots, k + 1, roi);
            a.area = run_area(runs);
            a.rle = rle_string(runs);
        } else {
            a.area = cv::countNonZero((*image.slots)(roi) == k + 1);
            a.polygon = card_outline(image, k);
        }
        out.annotations.push_back(std::move(a));
    }
}

const char* const kPoseYaml = "kpt_shape: [4, 3]\nflip_idx: [1, 0, 3, 2]\n";

}  // namespace

const std::vector<ExportFormat>& export_formats() {
    static const std::vector<ExportFormat> formats = {
        {"yolo-detect", "Ultralytics detect, the visible box", Layout::Yolo, false, "",
         &write_detect},
        {"yolo-obb", "Ultralytics OBB, the card's quad clipped to the frame", Layout::Yolo, false,
         "", &write_obb},
        {"yolo-pose", "Ultralytics pose, the visible box and the four corners", Layout::Yolo, false,
         kPoseYaml, &write_pose},
        {"yolo-seg", "Ultralytics segment, the outline of the visible pixels", Layout::Yolo, true,
         "", &write_seg},
        {"coco", "COCO JSON per split: boxes, corner keypoints, RLE masks or polygons",
         Layout::Coco, true, "", &write_coco},
    };
    return formats;
}

const ExportFormat& find_format(const std::string& name) {
    std::string names;
    for (const ExportFormat& f : export_formats()) {
        if (name == f.name) return f;
        names += (names.empty() ? "" : ", ") + std::string(f.name);
    }
    throw ConfigError("--format: unknown format '" + name + "' (one of " + names + ")");
}

std::string formats_help() {
    std::string text;
    for (const ExportFormat& f : export_formats())
        text += std::string(text.empty() ? "" : "; ") + f.name + " (" + f.description + ")";
    return text;
}

}  // namespace cardsynth
