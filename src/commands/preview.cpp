#include "commands/preview.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "dataset/dataset_reader.h"

namespace cardsynth {
namespace {

constexpr int kTileWidth = 640;
constexpr int kColumns = 2;

// Colours in BGR, for cv::imwrite.
const cv::Scalar kCorners(80, 220, 80), kTopLeft(40, 40, 240), kBox(0, 220, 255),
    kText(255, 255, 255);

void draw_labels(cv::Mat& bgr, const ImageLabels& labels, const CardTable& cards, double scale) {
    for (const CardLabel& l : labels.cards) {
        std::vector<cv::Point> quad;
        for (int c = 0; c < 4; ++c)
            quad.emplace_back(static_cast<int>(std::lround(l.corners[2 * c] * scale)),
                              static_cast<int>(std::lround(l.corners[2 * c + 1] * scale)));
        cv::polylines(bgr, quad, true, kCorners, 1, cv::LINE_AA);
        cv::circle(bgr, quad[0], 4, kTopLeft, cv::FILLED, cv::LINE_AA);
        if (l.bbox[2] > l.bbox[0])
            cv::rectangle(bgr, cv::Point2d(l.bbox[0] * scale, l.bbox[1] * scale),
                          cv::Point2d(l.bbox[2] * scale, l.bbox[3] * scale), kBox, 1);
        const std::string name =
            l.card_id >= 0 && static_cast<size_t>(l.card_id) < cards.names.size()
                ? cards.names[l.card_id]
                : "?";
        char text[160];
        std::snprintf(text, sizeof text, "%s %.0f%%", name.c_str(), l.visible_fraction * 100.0f);
        const cv::Point at(std::max(2, static_cast<int>(l.bbox_full[0] * scale)),
                           std::max(12, static_cast<int>(l.bbox_full[1] * scale) + 12));
        cv::putText(bgr, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.35, cv::Scalar(0, 0, 0), 3,
                    cv::LINE_AA);
        cv::putText(bgr, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.35, kText, 1, cv::LINE_AA);
    }
}

int draw_sheet(const std::string& dataset, const std::string& png, int count, int64_t start) {
    if (count < 1) throw ConfigError("--count " + std::to_string(count) + ": expected at least 1");
    DatasetReader reader(dataset);
    const DatasetHeader& h = reader.header();
    if (start < 0 || start >= h.num_images)
        throw ConfigError("--start " + std::to_string(start) + " is outside 0.." +
                          std::to_string(h.num_images - 1) + " of '" + dataset +
                          "' (attribute 'num_images' is " + std::to_string(h.num_images) + ")");
    const auto done = reader.done();  // num_images long: the reader checked /done against it
    std::vector<int64_t> picks;
    for (int64_t i = start; i < h.num_images && static_cast<int>(picks.size()) < count; ++i)
        if (done[i]) picks.push_back(i);
    if (picks.empty())
        throw DatasetError("'" + dataset + "' has no finished image from " + std::to_string(start));
    const double scale = static_cast<double>(kTileWidth) / h.width;
    const int tile_h = static_cast<int>(std::lround(h.height * scale));
    const int cols = std::min<int>(kColumns, static_cast<int>(picks.size()));
    const int rows = static_cast<int>((picks.size() + cols - 1) / cols);
    cv::Mat sheet(rows * (tile_h + 20), cols * kTileWidth, CV_8UC3, cv::Scalar(30, 30, 30));
    for (size_t k = 0; k < picks.size(); ++k) {
        cv::Mat bgr;
        cv::cvtColor(reader.image(picks[k]), bgr, cv::COLOR_RGB2BGR);
        cv::resize(bgr, bgr, cv::Size(kTileWidth, tile_h), 0, 0, cv::INTER_AREA);
        draw_labels(bgr, reader.labels(picks[k]), reader.cards(), scale);
        const int x = static_cast<int>(k % cols) * kTileWidth,
                  y = static_cast<int>(k / cols) * (tile_h + 20);
        bgr.copyTo(sheet(cv::Rect(x, y + 20, kTileWidth, tile_h)));
        cv::putText(sheet, "image " + std::to_string(picks[k]), cv::Point(x + 6, y + 15),
                    cv::FONT_HERSHEY_SIMPLEX, 0.45, kText, 1, cv::LINE_AA);
    }
    if (!cv::imwrite(png, sheet)) throw Error("cannot write preview '" + png + "'");
    return static_cast<int>(picks.size());
}

}  // namespace

int write_preview(const std::string& dataset, const std::string& png, int count, int64_t start) {
    // A file that cannot be read as a dataset is a bad input (exit 2), as for export.
    try {
        return draw_sheet(dataset, png, count, start);
    } catch (const DatasetError& e) {
        throw InputError(e.what());
    }
}

}  // namespace cardsynth
