// The label table alone: round buffers sized, padded, filled and cut from it, for the cardsynth/1
// columns and for a schema with one more column; the description the file carries.
#include <catch2/catch.hpp>

#include <cstring>

#include "base/error.h"
#include "dataset/dataset.h"
#include "dataset/label_schema.h"

using namespace cardsynth;
using Catch::Matchers::Contains;

namespace {

template <class T>
std::vector<T> as(const std::vector<uint8_t>& bytes) {
    std::vector<T> out(bytes.size() / sizeof(T));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    return out;
}

CardLabel card(int32_t id) {
    CardLabel c;
    c.card_id = id;
    for (int j = 0; j < 8; ++j) c.corners[j] = static_cast<float>(id * 10 + j);
    c.corner_visible = {2, 1, 0, 2};
    c.bbox = {1.0f, 2.0f, 3.0f, 4.0f};
    c.bbox_full = {0.5f, 1.5f, 3.5f, 4.5f};
    c.visible_fraction = 0.25f * static_cast<float>(id);
    return c;
}

// One more column, declared here only: the card's id twice over, as uint16, padded with 7.
void fill_twice(const CardLabel& c, void* out) {
    const uint16_t v = static_cast<uint16_t>(2 * c.card_id);
    std::memcpy(out, &v, sizeof v);
}

LabelSchema with_twice() {
    std::vector<LabelColumn> columns = default_label_schema().columns();
    columns.push_back({"twice", ElementType::UInt16, LabelExtent::PerSlot, {}, 7, &fill_twice});
    return LabelSchema(columns);
}

}  // namespace

TEST_CASE("the cardsynth/1 columns are those of docs/FORMAT.md") {
    const LabelSchema& s = default_label_schema();
    REQUIRE(s.size() == 7);
    CHECK(std::string(s[0].name) == "count");
    CHECK(s[s.index_of("corners")].shape.elements() == 8);
    CHECK(s[s.index_of("card_id")].padding == -1);
    CHECK(kCardsynth1LabelBytesPerSlot == 76);
    CHECK(s[s.index_of("corners")].path() == "/labels/corners");
    CHECK_THROWS_AS(s.index_of("nope"), DatasetError);
}

TEST_CASE("round buffers are padded, filled up to the count and cut") {
    const LabelSchema& s = default_label_schema();
    RoundData rd;
    reset_labels(rd, 2, 3);
    REQUIRE(rd.labels.size() == s.size());
    CHECK(as<int32_t>(rd.labels[s.index_of("card_id")]) == std::vector<int32_t>(6, -1));
    CHECK(rd.labels[s.index_of("corners")].size() == 2 * 3 * 8 * 4);
    ImageLabels four;
    for (int32_t id : {1, 2, 3, 4}) four.cards.push_back(card(id));
    store_labels(rd, 1, 3, four);  // one card more than the slots
    CHECK(as<uint16_t>(rd.labels[s.index_of("count")]) == std::vector<uint16_t>{0, 3});
    CHECK(as<int32_t>(rd.labels[s.index_of("card_id")]) ==
          std::vector<int32_t>{-1, -1, -1, 1, 2, 3});
    const std::vector<float> corners = as<float>(rd.labels[s.index_of("corners")]);
    CHECK(corners[24 + 8 + 3] == 23.0f);  // image 1, slot 1, element 3
    CHECK(as<uint8_t>(rd.labels[s.index_of("corner_visible")])[12] == 2);
    CHECK(as<float>(rd.labels[s.index_of("visible_fraction")])[5] == 0.75f);
    truncate_labels(rd, 1, 3);
    CHECK(as<uint16_t>(rd.labels[s.index_of("count")]) == std::vector<uint16_t>{0});
    CHECK(rd.labels[s.index_of("bbox")].size() == 3 * 4 * 4);
}

TEST_CASE("a column added in one place is padded, filled and described") {
    const LabelSchema s = with_twice();
    REQUIRE(s.size() == 8);
    RoundData rd;
    reset_labels(rd, 2, 2, s);
    ImageLabels one;
    one.cards.push_back(card(5));
    store_labels(rd, 0, 2, one, s);
    CHECK(as<uint16_t>(rd.labels[s.index_of("twice")]) == std::vector<uint16_t>{10, 7, 7, 7});
    CHECK(as<int32_t>(rd.labels[s.index_of("card_id")]) == std::vector<int32_t>{5, -1, -1, -1});
    CHECK_THAT(s.to_json(), Contains(R"({"name": "twice", "dtype": "uint16", "per": "slot", )"
                                     R"("shape": [], "padding": 7})"));
}

TEST_CASE("the description lists every column in order") {
    CHECK(default_label_schema().to_json() ==
          R"([{"name": "count", "dtype": "uint16", "per": "image", "shape": [], "padding": 0},)"
          "\n"
          R"( {"name": "card_id", "dtype": "int32", "per": "slot", "shape": [], "padding": -1},)"
          "\n"
          R"( {"name": "corners", "dtype": "float32", "per": "slot", "shape": [4, 2], )"
          R"("padding": 0},)"
          "\n"
          R"( {"name": "corner_visible", "dtype": "uint8", "per": "slot", "shape": [4], )"
          R"("padding": 0},)"
          "\n"
          R"( {"name": "bbox", "dtype": "float32", "per": "slot", "shape": [4], "padding": 0},)"
          "\n"
          R"( {"name": "bbox_full", "dtype": "float32", "per": "slot", "shape": [4], )"
          R"("padding": 0},)"
          "\n"
          R"( {"name": "visible_fraction", "dtype": "float32", "per": "slot", "shape": [], )"
          R"("padding": 0}])");
}

TEST_CASE("a schema without count, with a name twice or without a fill is refused") {
    std::vector<LabelColumn> columns = default_label_schema().columns();
    std::vector<LabelColumn> no_count(columns.begin() + 1, columns.end());
    CHECK_THROWS_WITH(LabelSchema(no_count), Contains("'count'"));
    std::vector<LabelColumn> twice = columns;
    twice.push_back(columns[1]);
    CHECK_THROWS_WITH(LabelSchema(twice), Contains("'card_id' twice"));
    std::vector<LabelColumn> unfilled = columns;
    unfilled.push_back({"empty", ElementType::UInt8, LabelExtent::PerSlot, {}, 0});
    CHECK_THROWS_WITH(LabelSchema(unfilled), Contains("no fill function"));
}
