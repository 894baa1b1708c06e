#include <catch2/catch.hpp>

#include <opencv2/imgproc.hpp>

#include "render/labels.h"
#include "render_support.h"

using namespace cardsynth;
using cardsynth::testing::Fixture;

TEST_CASE("a card fully covered by a later one has visible fraction 0 and its corners marked 1") {
    Fixture f(240, 200, 140);
    SceneSpec s = f.empty_scene();
    s.cards.push_back(Fixture::card(120, 100, 60, 10));
    s.cards.push_back(Fixture::card(120, 100, 140, 0));
    const ImageLabels l = compute_labels(s, f.render(s).ids);
    REQUIRE(l.cards.size() == 2);
    CHECK(l.cards[0].visible_fraction == 0.0f);
    for (int c = 0; c < 4; ++c) CHECK(l.cards[0].corner_visible[c] == 1);
    CHECK(l.cards[0].bbox == std::array<float, 4>{0, 0, 0, 0});
    CHECK(l.cards[1].visible_fraction == Approx(1.0).margin(0.02));
    for (int c = 0; c < 4; ++c) CHECK(l.cards[1].corner_visible[c] == 2);
}

TEST_CASE("a card half outside the frame has those corners marked 0 and a clipped full box") {
    Fixture f(240, 200, 100);
    SceneSpec s = f.empty_scene();
    s.cards.push_back(Fixture::card(0, 100, 100, 0));  // centred on the left edge
    const ImageLabels l = compute_labels(s, f.render(s).ids);
    const CardLabel& c = l.cards[0];
    CHECK(c.corner_visible[0] == 0);  // top-left
    CHECK(c.corner_visible[3] == 0);  // bottom-left
    CHECK(c.corner_visible[1] == 2);
    CHECK(c.corner_visible[2] == 2);
    CHECK(c.corners[0] < 0);
    CHECK(c.bbox_full[0] == 0.0f);
    CHECK(c.bbox_full[2] == Approx(100 * 100.0 / 140 / 2).margin(0.01));
    CHECK(c.bbox[0] == 0.0f);
    CHECK(c.bbox[2] == Approx(c.bbox_full[2]).margin(1.0));
    CHECK(c.visible_fraction == Approx(0.5).margin(0.03));
}

TEST_CASE("the visible box is the tight box of the card's pixels in the id buffer") {
    Fixture f(240, 200, 100);
    SceneSpec s = f.empty_scene();
    s.cards.push_back(Fixture::card(100, 90, 100, 33));
    const Frame frame = f.render(s);
    const ImageLabels l = compute_labels(s, frame.ids);
    cv::Mat mask = frame.ids == 1;
    const cv::Rect r = cv::boundingRect(mask);
    CHECK(l.cards[0].bbox == std::array<float, 4>{static_cast<float>(r.x), static_cast<float>(r.y),
                                                  static_cast<float>(r.x + r.width),
                                                  static_cast<float>(r.y + r.height)});
}
