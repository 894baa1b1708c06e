#include <catch2/catch.hpp>

#include <opencv2/imgproc.hpp>

#include "export/geometry.h"
#include "export/rle.h"
#include "export/yolo.h"

using namespace cardsynth;

namespace {

CardLabel card_with_corners(std::array<float, 8> corners) {
    CardLabel c;
    c.card_id = 3;
    c.corners = corners;
    return c;
}

}  // namespace

TEST_CASE("YOLO lines are normalised, clamped into [0, 1], with 6 decimals") {
    CHECK(yolo_box_line(0, {10, 20, 30, 60}, 100, 200) ==
          "0 0.200000 0.200000 0.200000 0.200000\n");
    // A box past the frame is cut to it, never written out of range.
    CHECK(yolo_box_line(2, {-5, 0, 100, 250}, 100, 200) ==
          "2 0.500000 0.500000 1.000000 1.000000\n");
    std::string line;
    append_unit(line, -0.3);
    append_unit(line, 1.7);
    append_unit(line, 1.0 / 3);
    CHECK(line == " 0.000000 1.000000 0.333333");
}

TEST_CASE("a YOLO pose line writes corners outside the frame as 0 0 0") {
    CardLabel c = card_with_corners({10, 10, 90, 10, 90, 150, -10, 150});
    c.bbox = {0, 10, 90, 150};
    c.corner_visible = {2, 1, 2, 0};
    CHECK(yolo_pose_line(0, c, 100, 200) ==
          "0 0.450000 0.400000 0.900000 0.700000 0.100000 0.050000 2 0.900000 0.050000 1 "
          "0.900000 0.750000 2 0.000000 0.000000 0\n");
}

TEST_CASE("a quad inside the frame keeps its corners and their order") {
    const Polygon quad{{50, 10}, {90, 50}, {50, 90}, {10, 50}};
    CHECK(clip_to_frame(quad, 100, 100) == quad);
    CardLabel c = card_with_corners({50, 10, 90, 50, 50, 90, 10, 50});
    CHECK(oriented_box(c, 100, 100) == quad);
}

TEST_CASE("a quad across the frame's edge is clipped to it") {
    // Cut straight across by x = 100: still four points.
    Polygon clipped = clip_to_frame({{60, 10}, {140, 10}, {140, 50}, {60, 50}}, 100, 100);
    REQUIRE(clipped.size() == 4);
    CHECK(clipped == Polygon{{60, 10}, {100, 10}, {100, 50}, {60, 50}});
    // A diamond with one corner cut off: five points, so the OBB is a rotated rectangle, inside.
    clipped = clip_to_frame({{50, 10}, {120, 50}, {50, 90}, {-20, 50}}, 100, 100);
    CHECK(clipped.size() == 6);
    CardLabel c = card_with_corners({50, 10, 120, 50, 50, 90, -20, 50});
    const Polygon box = oriented_box(c, 100, 100);
    REQUIRE(box.size() == 4);
    for (const cv::Point2d& p : box) {
        CHECK(p.x >= 0);
        CHECK(p.x <= 100);
        CHECK(p.y >= 0);
        CHECK(p.y <= 100);
    }
    CHECK(clip_to_frame({{-50, -50}, {-10, -50}, {-10, -10}}, 100, 100).empty());
}

TEST_CASE("RLE counts and string match pycocotools on a hand-made mask") {
    // Column-major: 0 0 0 | 1 1 0 | 0 1 0 -> runs 3 2 2 1 1; rleToString differences from the
    // fourth count on: 3 2 2 (1-2) (1-2) -> "322OO".
    cv::Mat slots = (cv::Mat_<uint8_t>(3, 3) << 0, 1, 0, 0, 1, 1, 0, 0, 0);
    const auto runs = slot_runs(slots, 1, cv::Rect(0, 0, 3, 3));
    CHECK(runs == std::vector<uint32_t>{3, 2, 2, 1, 1});
    CHECK(run_area(runs) == 3);
    CHECK(rle_string(runs) == "322OO");
    // A count over 15 needs a second 5-bit group: 100 = 4 + (3 << 5) -> 'T' '3'.
    CHECK(rle_string({100}) == "T3");
    CHECK(rle_string({0, 9}) == "09");
}

TEST_CASE("RLE runs counted over a card's box equal those over the whole frame") {
    cv::Mat slots = (cv::Mat_<uint8_t>(4, 4) << 1, 2, 2, 0,  //
                     1, 0, 2, 0,                             //
                     0, 0, 2, 2,                             //
                     0, 0, 0, 0);
    const cv::Rect frame(0, 0, 4, 4);
    // Column-major: 1 1 0 0 | 2 0 0 0 | 2 2 2 0 | 0 0 2 0; a mask starting with ones has a 0 run.
    CHECK(slot_runs(slots, 1, frame) == std::vector<uint32_t>{0, 2, 14});
    CHECK(slot_runs(slots, 2, frame) == std::vector<uint32_t>{4, 1, 3, 3, 3, 1, 1});
    CHECK(slot_runs(slots, 1, cv::Rect(0, 0, 1, 2)) == slot_runs(slots, 1, frame));
    CHECK(slot_runs(slots, 2, cv::Rect(1, 0, 3, 3)) == slot_runs(slots, 2, frame));
    CHECK(slot_runs(slots, 2, cv::Rect(1, 0, 3, 4)) == slot_runs(slots, 2, frame));
    CHECK(slot_runs(slots, 3, frame) == std::vector<uint32_t>{16});
    // A region that ends at the bottom of its box's last column, before the frame's last column.
    slots = cv::Mat::zeros(4, 4, CV_8U);
    slots.at<uint8_t>(3, 1) = 5;
    slots.at<uint8_t>(2, 1) = 5;
    CHECK(slot_runs(slots, 5, cv::Rect(1, 2, 1, 2)) == std::vector<uint32_t>{6, 2, 8});
    CHECK(slot_runs(slots, 5, cv::Rect(1, 2, 1, 2)) == slot_runs(slots, 5, frame));
}

TEST_CASE("the outline of a region is its largest contour, at pixel centres") {
    cv::Mat slots = cv::Mat::zeros(20, 20, CV_8U);
    slots(cv::Rect(2, 3, 5, 4)).setTo(1);    // 20 pixels
    slots(cv::Rect(12, 12, 2, 2)).setTo(1);  // 4 pixels, a second piece
    const Polygon outline = region_outline(slots, 1, cv::Rect(0, 0, 20, 20));
    REQUIRE(outline.size() == 4);
    double x0 = 99, x1 = 0, y0 = 99, y1 = 0;
    for (const cv::Point2d& p : outline) {
        x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
        y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
    CHECK(x0 == 2.5);
    CHECK(x1 == 6.5);
    CHECK(y0 == 3.5);
    CHECK(y1 == 6.5);
    CHECK(region_outline(slots, 2, cv::Rect(0, 0, 20, 20)).empty());
}

TEST_CASE("painted slots put later cards over earlier ones and fill pixel centres inside") {
    std::vector<CardLabel> cards{card_with_corners({0, 0, 10, 0, 10, 10, 0, 10}),
                                 card_with_corners({5, 5, 20, 5, 20, 20, 5, 20})};
    cv::Mat slots;
    paint_slots(cards, 16, 12, slots);
    CHECK(slots.at<uint8_t>(0, 0) == 1);
    CHECK(slots.at<uint8_t>(9, 4) == 1);
    CHECK(slots.at<uint8_t>(6, 6) == 2);
    CHECK(slots.at<uint8_t>(11, 15) == 2);
    CHECK(slots.at<uint8_t>(11, 2) == 0);
    CHECK(cv::countNonZero(slots == 1) == 100 - 25);
}
