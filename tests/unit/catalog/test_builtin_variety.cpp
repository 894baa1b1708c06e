// The built-in deck's variety: shapes, faces and content spread the way real decks do, and every
// card stays a pure function of its id.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>

#include <opencv2/imgproc.hpp>

#include "catalog/builtin_deck.h"

using namespace cardsynth;

namespace {

double mean_luma(const cv::Mat& rgba) {
    const cv::Scalar m = cv::mean(rgba);
    return 0.3 * m[0] + 0.59 * m[1] + 0.11 * m[2];
}

// Share of pixels on a strong edge: how much crisp small structure a face carries.
double edge_share(const cv::Mat& rgba) {
    cv::Mat grey, edges;
    cv::cvtColor(rgba, grey, cv::COLOR_RGBA2GRAY);
    cv::Canny(grey, edges, 80, 160);
    return cv::countNonZero(edges) / static_cast<double>(edges.total());
}

}  // namespace

TEST_CASE("built-in card shapes span real formats and corner radii", "[catalog][builtin]") {
    double lo = 1, hi = 0;
    int square = 0, round = 0;
    std::set<int> widths;
    // One card of each of 2000 decks: the cards of a deck share their shape.
    for (int deck = 0; deck < 2000; ++deck) {
        const BuiltinCardShape s = builtin_card_shape(deck * kBuiltinDeckCards + deck % 7);
        const double aspect = static_cast<double>(s.width) / s.height;
        lo = std::min(lo, aspect), hi = std::max(hi, aspect);
        CHECK(s.height == kBuiltinCardHeight);
        CHECK(s.corner_fraction >= 0.0);
        CHECK(s.corner_fraction <= 0.15);
        square += s.corner_fraction == 0.0;
        round += s.corner_fraction > 0.09;
        widths.insert(s.width);
    }
    CHECK(lo >= 0.619);
    CHECK(lo < 0.63);
    CHECK(hi <= 0.761);
    CHECK(hi > 0.75);
    CHECK(square > 150);
    CHECK(round > 150);
    CHECK(widths.size() > 50);
    const BuiltinCardShape a = builtin_card_shape(99999), b = builtin_card_shape(99999);
    CHECK(a.width == b.width);
    CHECK(a.corner_fraction == b.corner_fraction);
}

TEST_CASE("a built-in card has its shape's size, transparent corners and is deterministic",
          "[catalog][builtin]") {
    for (int id : {0, 1, 2, 3, 57, 99999}) {
        INFO("card " << id);
        const BuiltinCardShape s = builtin_card_shape(id);
        const cv::Mat a = render_builtin_card(id);
        REQUIRE(a.type() == CV_8UC4);
        CHECK(a.cols == s.width);
        CHECK(a.rows == s.height);
        CHECK(cv::norm(a, render_builtin_card(id), cv::NORM_INF) == 0);
        const int r = static_cast<int>(s.corner_fraction * s.width);
        const uint8_t corner = a.at<cv::Vec4b>(0, 0)[3];
        CHECK(corner == (r >= 2 ? 0 : 255));
        CHECK(a.at<cv::Vec4b>(a.rows / 2, a.cols / 2)[3] == 255);
        CHECK(a.at<cv::Vec4b>(a.rows / 2, 0)[3] == 255);
    }
}

TEST_CASE("the built-in deck has white, cream, coloured and dark faces with crisp content",
          "[catalog][builtin]") {
    int light = 0, dark = 0, crisp = 0;
    const int n = 60;
    for (int deck = 0; deck < n; ++deck) {
        const cv::Mat card = render_builtin_card(deck * kBuiltinDeckCards + deck % 11);
        const double luma = mean_luma(card);
        light += luma > 170;
        dark += luma < 110;
        crisp += edge_share(card) > 0.01;
    }
    INFO("light " << light << ", dark " << dark << ", crisp " << crisp << " of " << n);
    CHECK(light > n / 10);
    CHECK(dark > n / 20);
    CHECK(crisp > n * 2 / 3);
}

TEST_CASE("the cards of a built-in deck share shape, face and border but not content",
          "[catalog][builtin]") {
    // The left edge at mid-height lies on the border, or on the face where there is none. A foil
    // or glossy deck's sheen falls differently on each card, so only most decks match exactly.
    auto edge = [](const cv::Mat& card) {
        return cv::mean(card(cv::Rect(0, card.rows / 2 - 10, 2, 20)));
    };
    const int decks = 12;
    int plain = 0, differ = 0;
    for (int deck = 0; deck < decks; ++deck) {
        const int first = deck * kBuiltinDeckCards;
        const cv::Mat a = render_builtin_card(first);
        const BuiltinCardShape sa = builtin_card_shape(first);
        bool same_edge = true;
        for (int k = 1; k < kBuiltinDeckCards; k += 6) {
            INFO("deck " << deck << ", card " << first + k);
            const BuiltinCardShape sb = builtin_card_shape(first + k);
            CHECK(sb.width == sa.width);
            CHECK(sb.corner_fraction == sa.corner_fraction);
            const cv::Mat b = render_builtin_card(first + k);
            same_edge = same_edge && cv::norm(edge(a), edge(b), cv::NORM_INF) == 0;
            CHECK(cv::norm(a, b, cv::NORM_L1) > 0.02 * 255 * a.total());
        }
        plain += same_edge;
        const cv::Mat next = render_builtin_card(first + kBuiltinDeckCards);
        differ += builtin_card_shape(first + kBuiltinDeckCards).width != sa.width ||
                  cv::norm(edge(a), edge(next), cv::NORM_INF) > 0;
    }
    INFO(plain << " of " << decks << " decks match at the edge, " << differ
               << " differ from the next");
    CHECK(plain >= decks * 2 / 3);
    CHECK(differ >= decks - 1);
}

TEST_CASE("built-in cards stay cheap to draw", "[catalog][builtin]") {
    const auto start = std::chrono::steady_clock::now();
    for (int id = 200; id < 240; ++id) render_builtin_card(id);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() /
        40;
    INFO("render_builtin_card: " << ms << " ms per card");
    CHECK(ms < 50.0);
}
