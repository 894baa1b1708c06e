// What compose() makes of the built-in deck and of the blur tied to scale.
#include <catch2/catch.hpp>

#include <algorithm>

#include "catalog/builtin_deck.h"
#include "catalog/catalog.h"
#include "scene/background.h"
#include "scene/scene.h"

using namespace cardsynth;

namespace {

struct Setup {
    Config config;
    Catalog catalog;
    Backgrounds backgrounds;

    Setup() {
        config.frame = {320, 192};
        config.cards.builtin_count = 500;
        config.scene.min_cards = 3, config.scene.max_cards = 8;
        config.scene.card_height = {40, 80};
        config.backgrounds.distractors = 0;
        catalog = Catalog::load(config.cards);
        backgrounds = Backgrounds::load(config.backgrounds, config.frame);
    }
};

}  // namespace

TEST_CASE("built-in cards are placed with their own aspect ratio and corner radius",
          "[scene][builtin]") {
    Setup s;
    s.config.cards.corner_radius = 0.03;
    int rounder = 0;
    for (int64_t i = 0; i < 30; ++i) {
        for (const CardPlacement& p : compose(s.config, s.catalog, s.backgrounds, i).cards) {
            const BuiltinCardShape shape =
                builtin_card_shape(s.catalog.cards()[p.card_id].builtin_id);
            CHECK(p.width / p.height ==
                  Approx(static_cast<double>(shape.width) / shape.height).epsilon(1e-5));
            const double fraction = std::max(0.03, shape.corner_fraction);
            CHECK(p.corner_radius == Approx(fraction * p.width).epsilon(1e-5));
            rounder += shape.corner_fraction > 0.03;
        }
    }
    CHECK(rounder > 10);
}

TEST_CASE("scene.blur_fraction blurs in proportion to the card's height", "[scene][blur]") {
    Setup s;
    s.config.scene.blur_sigma = {0, 0};
    s.config.scene.blur_fraction = {0.01, 0.01};
    for (int64_t i = 0; i < 10; ++i)
        for (const CardPlacement& p : compose(s.config, s.catalog, s.backgrounds, i).cards)
            CHECK(p.blur_sigma == Approx(0.01 * p.height).epsilon(1e-5));

    // Added to the absolute sigma; with [0, 0] (the default) the draws are those of before.
    s.config.scene.blur_sigma = {0.5, 0.5};
    s.config.scene.blur_fraction = {0.0, 0.02};
    for (int64_t i = 0; i < 10; ++i)
        for (const CardPlacement& p : compose(s.config, s.catalog, s.backgrounds, i).cards) {
            CHECK(p.blur_sigma >= 0.5f);
            CHECK(p.blur_sigma <= 0.5f + 0.02f * p.height + 1e-4f);
        }
    // The extra draw is made only when configured: the first card's pose does not depend on it.
    Config plain = s.config;
    plain.scene.blur_fraction = {0, 0};
    const SceneSpec a = compose(plain, s.catalog, s.backgrounds, 3);
    const SceneSpec b = compose(s.config, s.catalog, s.backgrounds, 3);
    for (int k = 0; k < 9; ++k) CHECK(a.cards[0].pose.m[k] == b.cards[0].pose.m[k]);
    CHECK(a.cards[0].blur_sigma == 0.5f);
}

TEST_CASE("scene.same_deck draws that share of a frame's cards from the first card's deck",
          "[scene][builtin]") {
    Setup s;
    auto deck = [&](const CardPlacement& p) {
        return s.catalog.cards()[p.card_id].builtin_id / kBuiltinDeckCards;
    };
    // How many cards after the first share its deck, of how many.
    auto share = [&](const Config& config, SceneKind kind) {
        Config c = config;
        c.scene.kind = kind;
        int same = 0, after = 0;
        for (int64_t i = 0; i < 40; ++i) {
            const SceneSpec spec = compose(c, s.catalog, s.backgrounds, i);
            for (size_t k = 1; k < spec.cards.size(); ++k)
                same += deck(spec.cards[k]) == deck(spec.cards[0]), ++after;
        }
        REQUIRE(after > 40);
        return static_cast<double>(same) / after;
    };
    for (SceneKind kind : {SceneKind::Random, SceneKind::Table}) {
        INFO("scene kind " << static_cast<int>(kind));
        CHECK(share(s.config, kind) < 0.2);  // 25 decks: by chance about 1 in 25
        s.config.scene.same_deck = 1.0;
        CHECK(share(s.config, kind) == 1.0);
        s.config.scene.same_deck = 0.5;
        CHECK(share(s.config, kind) == Approx(0.5).margin(0.15));
        s.config.scene.same_deck = 0.0;
    }
    // With a popularity range the catalog starts at a later id: mates are still found by id.
    s.config.cards.use_popularity_weights = true;
    s.config.cards.popularity_min = 31;
    s.config.scene.same_deck = 1.0;
    s.catalog = Catalog::load(s.config.cards);
    REQUIRE(s.catalog.cards()[0].builtin_id == 30);
    CHECK(share(s.config, SceneKind::Random) > 0.8);
}
