// Alias sampling, popularity weights with dampening, the rank filter and the weight report.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "base/error.h"
#include "base/rng.h"
#include "catalog/alias_sampler.h"
#include "catalog/catalog.h"

using namespace cardsynth;

namespace {

std::vector<Card> ranked_cards(int count, int first_rank = 1) {
    std::vector<Card> cards(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
        cards[i].name = "card" + std::to_string(i);
        cards[i].source = "builtin:" + std::to_string(i);
        cards[i].builtin_id = i;
        cards[i].rank = first_rank + i;
        cards[i].has_row = true;
    }
    return cards;
}

CardsConfig weighted() {
    CardsConfig config;
    config.use_popularity_weights = true;
    return config;
}

}  // namespace

TEST_CASE("alias sampler matches rank weights by chi-square on 500 cards", "[catalog][sampler]") {
    const Catalog catalog = Catalog::from_cards(ranked_cards(500), weighted());
    REQUIRE(catalog.size() == 500);
    const int draws = 500000;
    std::vector<int> counts(500, 0);
    Rng rng(2024, 0, 7);
    for (int i = 0; i < draws; ++i) {
        const double u1 = rng.uniform();
        const double u2 = rng.uniform();
        const int32_t id = catalog.sample(u1, u2);
        REQUIRE(id >= 0);
        REQUIRE(id < 500);
        ++counts[id];
    }
    // Expected from the weights computed here, independently of the catalog's probabilities.
    std::vector<double> w(500);
    for (int r = 1; r <= 500; ++r) w[r - 1] = std::pow(std::pow(r, -0.5), 0.92);
    const double sum = std::accumulate(w.begin(), w.end(), 0.0);
    double chi2 = 0.0;
    for (int i = 0; i < 500; ++i) {
        const double expected = draws * w[i] / sum;
        chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
        REQUIRE(catalog.cards()[i].probability == Approx(w[i] / sum).epsilon(1e-9));
    }
    INFO("chi-square " << chi2 << " with 499 degrees of freedom");
    CHECK(chi2 < 603.0);  // critical value at p = 0.001
    // The most popular card is drawn more than the least popular one.
    CHECK(counts[0] > 2 * counts[499]);
}

TEST_CASE("alias sampler is deterministic and handles the ends of [0, 1)", "[catalog][sampler]") {
    const AliasSampler sampler({1.0, 0.0, 3.0, 4.0});
    REQUIRE(sampler.size() == 4);
    CHECK(sampler.probability(0) == Approx(0.125));
    CHECK(sampler.probability(1) == 0.0);
    CHECK(sampler.probability(3) == Approx(0.5));
    std::vector<int> counts(4, 0);
    for (int i = 0; i < 4000; ++i) {
        Rng rng(1, static_cast<uint64_t>(i));
        const double a = rng.uniform(), b = rng.uniform();
        const int32_t first = sampler.sample(a, b);
        CHECK(first == sampler.sample(a, b));
        ++counts[first];
    }
    CHECK(counts[1] == 0);  // zero weight is never drawn
    CHECK(counts[3] > counts[2]);
    CHECK(counts[2] > counts[0]);
    for (double u : {0.0, 0.999999999999, 1.0}) {
        for (double coin : {0.0, 0.5, 0.999999999}) {
            const int32_t id = sampler.sample(u, coin);
            CHECK(id >= 0);
            CHECK(id < 4);
            CHECK(id != 1);
        }
    }
    CHECK_THROWS_AS(AliasSampler(std::vector<double>{}), std::invalid_argument);
    CHECK_THROWS_AS(AliasSampler(std::vector<double>{0.0, 0.0}), std::invalid_argument);
    CHECK_THROWS_AS(AliasSampler(std::vector<double>{1.0, -1.0}), std::invalid_argument);
}

TEST_CASE("dampening turns a 23.5x weight span into about 18.2x", "[catalog][weights]") {
    // Ranks 1..552 with rank^-0.5 span sqrt(552) = 23.5x, the legacy scripts' figure.
    std::vector<Card> cards = ranked_cards(552);
    PopularityReport report;
    assign_weights(cards, weighted(), report);
    CHECK(report.cards == 552);
    CHECK(report.ratio_before == Approx(23.5).margin(0.05));
    CHECK(report.ratio_after == Approx(18.2).margin(0.1));
    CHECK(report.ratio_after == Approx(std::pow(report.ratio_before, 0.92)).epsilon(1e-12));
    CHECK(cards[0].base_weight == Approx(1.0));
    CHECK(cards[99].base_weight == Approx(0.1));

    // Shares of the 100 heaviest cards, recomputed here.
    double all_base = 0, top_base = 0, all_damped = 0, top_damped = 0;
    for (int r = 1; r <= 552; ++r) {
        const double b = std::pow(r, -0.5), d = std::pow(b, 0.92);
        all_base += b;
        all_damped += d;
        if (r <= 100) top_base += b, top_damped += d;
    }
    CHECK(report.top100_before == Approx(top_base / all_base).epsilon(1e-9));
    CHECK(report.top100_after == Approx(top_damped / all_damped).epsilon(1e-9));
    CHECK(report.top100_after < report.top100_before);
    double total = 0;
    for (const Card& c : cards) total += c.probability;
    CHECK(total == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("scores are used as base weights and unranked cards get the lowest",
          "[catalog][weights]") {
    std::vector<Card> cards = ranked_cards(4);
    cards[0].has_score = true;
    cards[0].score = 50.0;
    cards[1].has_score = true;
    cards[1].score = 2.0;
    cards[2].rank = 0;   // no popularity
    cards[3].rank = 16;  // 16^-0.5 = 0.25, the lowest
    PopularityReport report;
    CardsConfig config = weighted();
    config.weight_dampening_power = 0.5;
    assign_weights(cards, config, report);
    CHECK(cards[0].base_weight == 50.0);
    CHECK(cards[1].base_weight == 2.0);
    CHECK(cards[2].base_weight == Approx(0.25));
    CHECK(cards[3].base_weight == Approx(0.25));
    CHECK(report.ratio_before == Approx(200.0));
    CHECK(report.ratio_after == Approx(std::sqrt(200.0)));
    CHECK(cards[0].probability / cards[1].probability == Approx(5.0));
    // Fewer than 100 cards: the top share is all of them.
    CHECK(report.top100_after == Approx(1.0));

    std::vector<Card> none = ranked_cards(3);
    for (Card& c : none) c.rank = 0;
    assign_weights(none, config, report);
    for (const Card& c : none) {
        CHECK(c.base_weight == 1.0);
        CHECK(c.probability == Approx(1.0 / 3));
    }
}

TEST_CASE("sampling is uniform without use_popularity_weights", "[catalog][weights]") {
    CardsConfig config;          // use_popularity_weights false
    config.popularity_min = 10;  // ignored without weights
    const Catalog catalog = Catalog::from_cards(ranked_cards(40), config);
    REQUIRE(catalog.size() == 40);
    for (const Card& c : catalog.cards()) CHECK(c.probability == Approx(1.0 / 40));
    const auto lines = catalog.report_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind("[catalog] 40 cards from ", 0) == 0);
    CHECK(lines[1] ==
          "[weights] uniform sampling over 40 cards (--use-popularity-weights not set)");
}

TEST_CASE("the weight report prints what the seed printed", "[catalog][weights]") {
    const Catalog catalog = Catalog::from_cards(ranked_cards(552), weighted());
    const auto lines = catalog.report_lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "[catalog] 552 cards from explicit cards");
    CHECK(lines[1] ==
          "[weights] max/min weight ratio: 23.5x before dampening, 18.3x after (power 0.92)");
    char expected[128];
    std::snprintf(expected, sizeof expected,
                  "[weights] top 100 cards: %.1f%% of draws (%.1f%% without dampening)",
                  100 * catalog.report().top100_after, 100 * catalog.report().top100_before);
    CHECK(lines[2] == expected);
}

TEST_CASE("the rank filter keeps exactly the ranks in range", "[catalog][filter]") {
    std::vector<Card> cards = ranked_cards(50);
    cards.push_back(cards.back());
    cards.back().rank = 0;  // a card with no popularity
    cards.back().name = "unranked";

    SECTION("default range keeps every card, ranked or not") {
        const Catalog catalog = Catalog::from_cards(cards, weighted());
        CHECK(catalog.size() == 51);
    }
    SECTION("min and max") {
        CardsConfig config = weighted();
        config.popularity_min = 10;
        config.popularity_max = 20;
        const Catalog catalog = Catalog::from_cards(cards, config);
        std::vector<int> ranks;
        for (const Card& c : catalog.cards()) ranks.push_back(c.rank);
        std::vector<int> expected(11);
        std::iota(expected.begin(), expected.end(), 10);
        CHECK(ranks == expected);
        double total = 0;
        for (const Card& c : catalog.cards()) total += c.probability;
        CHECK(total == Approx(1.0));
    }
    SECTION("min only and max only") {
        CardsConfig config = weighted();
        config.popularity_min = 45;
        const Catalog high = Catalog::from_cards(cards, config);
        REQUIRE(high.size() == 6);
        CHECK(high.cards().front().rank == 45);
        CHECK(high.cards().back().rank == 50);
        config.popularity_min = 1;
        config.popularity_max = 3;
        const Catalog low = Catalog::from_cards(cards, config);
        REQUIRE(low.size() == 3);
        CHECK(low.cards().back().rank == 3);
    }
    SECTION("an empty range is an error naming it") {
        CardsConfig config = weighted();
        config.popularity_min = 60;
        config.popularity_max = 70;
        try {
            Catalog::from_cards(cards, config);
            FAIL("expected an InputError");
        } catch (const InputError& e) {
            CHECK_THAT(e.what(), Catch::Contains("60..70"));
        }
    }
}
