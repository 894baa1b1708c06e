#include "export/coco.h"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/text.h"

namespace cardsynth {
namespace {

using nlohmann::json;

// Pixels to a thousandth: enough for any consumer, and short in the file.
double px(double v) {
    return std::round(v * 1000) / 1000;
}

json categories_json(const CocoContext& c) {
    json out = json::array();
    for (size_t id = 0; id < c.categories.size(); ++id) {
        out.push_back({{"id", id},
                       {"name", c.categories[id]},
                       {"supercategory", "card"},
                       {"keypoints", {"top_left", "top_right", "bottom_right", "bottom_left"}},
                       {"skeleton", {{1, 2}, {2, 3}, {3, 4}, {4, 1}}}});
    }
    return out;
}

json segmentation_json(const CocoAnnotation& a, const CocoContext& c) {
    if (!a.rle.empty()) return {{"size", {c.height, c.width}}, {"counts", a.rle}};
    json polygon = json::array();
    for (const cv::Point2d& p : a.polygon) {
        polygon.push_back(px(p.x));
        polygon.push_back(px(p.y));
    }
    return json::array({polygon});
}

json annotation_json(const CocoAnnotation& a, int64_t id, int64_t image, const CocoContext& c) {
    const CardLabel& card = a.card;
    json keypoints = json::array();
    int seen = 0;
    for (int k = 0; k < 4; ++k) {
        const int v = card.corner_visible[k];
        keypoints.push_back(v ? px(card.corners[2 * k]) : 0.0);
        keypoints.push_back(v ? px(card.corners[2 * k + 1]) : 0.0);
        keypoints.push_back(v);
        seen += v > 0;
    }
    const auto xywh = [](const std::array<float, 4>& b) {
        return json::array({px(b[0]), px(b[1]), px(b[2] - b[0]), px(b[3] - b[1])});
    };
    const bool named =
        card.card_id >= 0 && static_cast<size_t>(card.card_id) < c.card_names->size();
    return {{"id", id},
            {"image_id", image},
            {"category_id", a.category},
            {"bbox", xywh(card.bbox)},
            {"area", a.area},
            {"iscrowd", 0},
            {"segmentation", segmentation_json(a, c)},
            {"keypoints", keypoints},
            {"num_keypoints", seen},
            {"bbox_full", xywh(card.bbox_full)},
            {"visible_fraction", std::round(card.visible_fraction * 1e6) / 1e6},
            {"card_name", named ? (*c.card_names)[card.card_id] : std::string()},
            {"card_id", card.card_id}};
}

}  // namespace

std::string image_file_name(int64_t i, const std::string& extension) {
    return format("%06lld.", static_cast<long long>(i)) + extension;
}

void write_coco_json(const std::string& path, const CocoContext& context,
                     const std::vector<int64_t>& images,
                     const std::vector<std::vector<CocoAnnotation>>& annotations,
                     const std::vector<int64_t>& first_id) {
    json doc;
    doc["info"] = {{"description", "cardsynth synthetic trading cards"},
                   {"version", CARDSYNTH_VERSION},
                   {"source", context.source},
                   {"seed", context.seed}};
    doc["licenses"] = json::array();
    json& image_list = doc["images"] = json::array();
    json& annotation_list = doc["annotations"] = json::array();
    for (int64_t i : images) {
        image_list.push_back({{"id", i},
                              {"file_name", image_file_name(i, context.extension)},
                              {"width", context.width},
                              {"height", context.height}});
        const auto& mine = annotations[static_cast<size_t>(i)];
        for (size_t k = 0; k < mine.size(); ++k)
            annotation_list.push_back(
                annotation_json(mine[k], first_id[static_cast<size_t>(i)] + k, i, context));
    }
    doc["categories"] = categories_json(context);
    std::ofstream out(path, std::ios::binary);
    out << doc.dump() << '\n';
    if (!out.flush()) throw Error("cannot write '" + path + "'");
}

}  // namespace cardsynth
