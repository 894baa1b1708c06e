// Catalog inputs that cannot mean what they say: a popularity table without rows, one that
// matches no card, two rows for one card (errors under strict), and a card directory named twice.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <opencv2/imgcodecs.hpp>

#include "base/error.h"
#include "catalog/catalog.h"
#include "catalog_support.h"

using namespace cardsynth;
using namespace cardsynth::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

CardsConfig four_cards(const ScratchDir& dir, const std::string& table) {
    fs::create_directories(dir / "cards");
    for (int i = 0; i < 4; ++i)
        REQUIRE(cv::imwrite(dir / ("cards/card" + std::to_string(i) + ".png"),
                            cv::Mat(8, 6, CV_8UC3, cv::Scalar(90, 60, 30 * i))));
    write_text(dir / "pop.csv", table);
    CardsConfig config;
    config.dirs = {dir / "cards"};
    config.popularity = dir / "pop.csv";
    config.use_popularity_weights = true;
    return config;
}

}  // namespace

TEST_CASE("a popularity table without rows fails under strict", "[catalog][inputs]") {
    ScratchDir dir;
    CardsConfig config = four_cards(dir, "file,rank\n");
    CHECK(quiet_load(config).size() == 4);
    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config), Contains("no rows") && Contains("pop.csv"));
}

TEST_CASE("a popularity table matching no card fails under strict", "[catalog][inputs]") {
    ScratchDir dir;
    CardsConfig config = four_cards(dir, "file,rank\nother.png,1\n");
    CHECK(quiet_load(config).size() == 4);
    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config),
                      Contains("none of the 1 rows") && Contains("4 cards") && Contains("pop.csv"));
}

TEST_CASE("two rows for one card fail under strict", "[catalog][inputs]") {
    ScratchDir dir;
    CardsConfig config = four_cards(
        dir, "file,rank\ncard0.png,1\ncard1.png,2\ncard2.png,3\ncard3.png,4\ncard0.png,9\n");
    CHECK(quiet_load(config).cards().size() == 4);
    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config), Contains("1 row") && Contains("card0.png"));
}

TEST_CASE("a card directory named twice is read once", "[catalog][inputs]") {
    ScratchDir dir;
    CardsConfig config = four_cards(dir, "file,rank\n");
    config.popularity.clear();
    config.use_popularity_weights = false;
    for (const std::string& again : {dir / "cards", dir / "./cards/", dir / "cards/../cards"}) {
        config.dirs = {dir / "cards", again};
        const Catalog catalog = quiet_load(config);
        std::set<std::string> names;
        for (const Card& c : catalog.cards()) names.insert(c.name);
        CHECK(catalog.size() == 4);
        CHECK(names.size() == 4);
    }
}
