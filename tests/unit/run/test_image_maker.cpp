// ImageMaker: a round makes the prefix of its range that fits before its deadline (always the
// first image), pads every label slot past an image's count, and gives each image the same bytes
// whatever the round it falls in.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "catalog/catalog.h"
#include "config/config.h"
#include "dataset/label_schema.h"
#include "run/image_maker.h"
#include "scene/background.h"

using namespace cardsynth;

namespace {

struct Inputs {
    Config config;
    Catalog catalog;
    Backgrounds backgrounds;
    std::unique_ptr<Renderer> renderer;

    explicit Inputs(Storage storage) {
        config.frame.width = 96;
        config.frame.height = 64;
        config.cards.builtin_count = 4;
        config.scene.min_cards = 1;
        config.scene.max_cards = 3;
        config.scene.card_height = Range{20, 40};
        config.output.storage = storage;
        config.output.masks = true;
        catalog = Catalog::load(config.cards);
        backgrounds = Backgrounds::load(config.backgrounds, config.frame);
        RenderInputs in;
        in.config = &config;
        in.catalog = &catalog;
        in.backgrounds = &backgrounds;
        in.threads = 2;
        in.cache_bytes = size_t{16} << 20;
        renderer = make_cpu_renderer(in);
    }
};

// Column `name` of the round's label buffers, as its element type.
template <class T>
const T* column(const RoundData& rd, const char* name) {
    return reinterpret_cast<const T*>(rd.labels[default_label_schema().index_of(name)].data());
}

RoundPlan plan(int64_t begin, int64_t end, std::chrono::microseconds time) {
    RoundPlan p;
    p.range = {begin, end};
    p.time = time;
    return p;
}

}  // namespace

TEST_CASE("a round with time to spare makes its whole range, labels padded past each count") {
    Inputs in(Storage::Raw);
    ImageMaker maker(in.config, in.catalog, in.backgrounds, *in.renderer, 2);
    RoundData rd;
    StageTimes times;
    maker.make(plan(5, 11, std::chrono::seconds(60)), rd, times);
    REQUIRE(rd.begin == 5);
    REQUIRE(rd.images() == 6);
    CHECK(rd.raw.size() == size_t{6} * 96 * 64 * 3);
    CHECK(rd.masks.size() == size_t{6} * 96 * 64);
    CHECK(times.render > 0);
    const uint16_t* count = column<uint16_t>(rd, "count");
    const int32_t* card_id = column<int32_t>(rd, "card_id");
    for (int64_t j = 0; j < 6; ++j) {
        const int n = count[j];
        CHECK(n >= 1);
        CHECK(n <= 3);
        for (int k = n; k < 3; ++k) CHECK(card_id[j * 3 + k] == -1);
    }
}

TEST_CASE("a round past its deadline still makes its first image, and only a prefix") {
    Inputs in(Storage::Png);
    ImageMaker maker(in.config, in.catalog, in.backgrounds, *in.renderer, 2);
    RoundData rd;
    StageTimes times;
    maker.make(plan(0, 50, std::chrono::microseconds(0)), rd, times);
    REQUIRE(rd.images() >= 1);
    REQUIRE(rd.images() < 50);
    CHECK(rd.encoded.size() == static_cast<size_t>(rd.images()));
    CHECK(rd.labels[default_label_schema().index_of("count")].size() ==
          static_cast<size_t>(rd.images()) * sizeof(uint16_t));
    CHECK(rd.masks.size() == static_cast<size_t>(rd.images()) * 96 * 64);
}

TEST_CASE("an image has the same bytes and labels whatever round makes it") {
    Inputs in(Storage::Raw);
    ImageMaker maker(in.config, in.catalog, in.backgrounds, *in.renderer, 2);
    RoundData a, b;
    StageTimes times;
    maker.make(plan(0, 4, std::chrono::seconds(60)), a, times);
    maker.make(plan(3, 4, std::chrono::seconds(60)), b, times);
    const size_t frame = size_t{96} * 64 * 3;
    REQUIRE(b.images() == 1);
    CHECK(std::memcmp(a.raw.data() + 3 * frame, b.raw.data(), frame) == 0);
    CHECK(column<uint16_t>(a, "count")[3] == column<uint16_t>(b, "count")[0]);
    const int32_t* ids_a = column<int32_t>(a, "card_id");
    CHECK(std::equal(ids_a + 9, ids_a + 12, column<int32_t>(b, "card_id")));
}
