// Popularity tables (CSV and Scryfall-style JSON) and how their rows are matched to card files.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "base/error.h"
#include "catalog/catalog.h"
#include "catalog/popularity.h"
#include "catalog_support.h"

using namespace cardsynth;
using namespace cardsynth::testing;
namespace fs = std::filesystem;

namespace {

void write_card(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    REQUIRE(cv::imwrite(path, cv::Mat(8, 6, CV_8UC3, cv::Scalar(90, 60, 30))));
}

const Card& by_source(const Catalog& catalog, const std::string& source) {
    for (const Card& c : catalog.cards())
        if (c.source == source) return c;
    FAIL("no card " << source);
    throw;
}

}  // namespace

TEST_CASE("CSV: header names, quoting, CRLF and blank lines", "[catalog][popularity]") {
    const std::string text =
        "Extra,FILE,Rank\r\n"
        "x,anglo/club_1.png,3\r\n"
        "\r\n"
        "\"y, z\",\"odd, name.png\",  17 \r\n"
        ",,\n"
        "w,\"say \"\"hi\"\".png\",1";
    const auto rows = parse_popularity_csv(text, "pop.csv");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].file == "anglo/club_1.png");
    CHECK(rows[0].name.empty());
    CHECK(rows[0].rank == 3);
    CHECK_FALSE(rows[0].has_score);
    CHECK(rows[1].file == "odd, name.png");
    CHECK(rows[1].rank == 17);
    CHECK(rows[2].file == "say \"hi\".png");
    CHECK(rows[2].rank == 1);

    const auto scored =
        parse_popularity_csv("name,score\nLightning Bolt,12.5\nOpt,0.25\n", "s.csv");
    REQUIRE(scored.size() == 2);
    CHECK(scored[0].name == "Lightning Bolt");
    CHECK(scored[0].has_score);
    CHECK(scored[0].score == 12.5);
    CHECK(scored[0].rank == 0);
    CHECK(scored[1].score == 0.25);

    // Both columns: a row may fill either.
    const auto both = parse_popularity_csv("name,rank,score\na,4,\nb,,2.5\n", "b.csv");
    REQUIRE(both.size() == 2);
    CHECK(both[0].rank == 4);
    CHECK_FALSE(both[0].has_score);
    CHECK(both[1].has_score);
    CHECK(both[1].score == 2.5);
}

TEST_CASE("CSV errors name the file and the line", "[catalog][popularity]") {
    CHECK_THROWS_WITH(parse_popularity_csv("file,rank\na.png,1\n\nb.png,abc\n", "popularity.csv"),
                      "popularity.csv:4: rank 'abc' is not a positive integer");
    CHECK_THROWS_WITH(parse_popularity_csv("file,rank\na.png,0\n", "p.csv"),
                      "p.csv:2: rank '0' is not a positive integer");
    CHECK_THROWS_WITH(parse_popularity_csv("file,rank\na.png,2.5\n", "p.csv"),
                      Catch::Contains("p.csv:2") && Catch::Contains("'2.5'"));
    CHECK_THROWS_WITH(parse_popularity_csv("name,score\nx,-1\n", "p.csv"),
                      "p.csv:2: score '-1' is not a positive number");
    CHECK_THROWS_WITH(parse_popularity_csv("file,rank\na.png\n", "p.csv"),
                      Catch::Contains("p.csv:2"));
    CHECK_THROWS_WITH(parse_popularity_csv("path,rank\na.png,1\n", "p.csv"),
                      Catch::Contains("p.csv") && Catch::Contains("'file' or 'name'"));
    CHECK_THROWS_WITH(parse_popularity_csv("file,weight\na.png,1\n", "p.csv"),
                      Catch::Contains("p.csv") && Catch::Contains("'rank' or 'score'"));
    CHECK_THROWS_WITH(parse_popularity_csv("file,rank\n\"a.png,1\n", "p.csv"),
                      Catch::Contains("p.csv:2") && Catch::Contains("unterminated"));
    CHECK_THROWS_AS(parse_popularity_csv("\n\n", "p.csv"), InputError);

    ScratchDir dir;
    write_text(dir / "empty.csv", "");
    CHECK_THROWS_WITH(load_popularity(dir / "empty.csv"), Catch::Contains("empty.csv"));
    CHECK_THROWS_WITH(load_popularity(dir / "missing.csv"), Catch::Contains("missing.csv"));
}

TEST_CASE("JSON: Scryfall-style lists", "[catalog][popularity]") {
    const auto rows = parse_popularity_json(R"([
        {"name": "Sol Ring", "edhrec_rank": 1, "image_path": "img/sol_ring.png", "set": "c21"},
        {"name": "Plains", "edhrec_rank": null},
        {"name": "Obscure Thing"}
    ])",
                                            "cards.json");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].name == "Sol Ring");
    CHECK(rows[0].rank == 1);
    CHECK(rows[0].file == "img/sol_ring.png");
    CHECK(rows[1].rank == 0);
    CHECK(rows[1].file.empty());
    CHECK(rows[2].rank == 0);

    CHECK_THROWS_WITH(parse_popularity_json("[{\"name\": \"a\",}", "cards.json"),
                      Catch::StartsWith("cards.json: invalid JSON"));
    CHECK_THROWS_WITH(parse_popularity_json("{\"name\": \"a\"}", "cards.json"),
                      Catch::Contains("cards.json") && Catch::Contains("array"));
    CHECK_THROWS_WITH(parse_popularity_json("[{\"edhrec_rank\": 3}]", "cards.json"),
                      Catch::Contains("cards.json: entry 0") && Catch::Contains("name"));
    CHECK_THROWS_WITH(
        parse_popularity_json("[{\"name\": \"a\", \"edhrec_rank\": \"x\"}]", "c.json"),
        Catch::Contains("c.json") && Catch::Contains("edhrec_rank"));
    ScratchDir dir;
    write_text(dir / "list.json", "[{\"name\": \"A\", \"edhrec_rank\": 5}]");
    REQUIRE(load_popularity(dir / "list.json").size() == 1);
    CHECK(load_popularity(dir / "list.json")[0].rank == 5);
}

TEST_CASE("file rows match whole trailing path components", "[catalog][popularity]") {
    ScratchDir dir;
    const std::string cards = dir / "a";
    write_card(cards + "/b/club_1.png");
    write_card(cards + "/bb/club_1.png");
    write_card(cards + "/b/club_10.png");
    write_text(dir / "pop.csv", "file,rank\nb/club_1.png,3\n./club_10.png,9\n");
    CardsConfig config;
    config.dirs = {cards};
    config.popularity = dir / "pop.csv";
    const Catalog catalog = quiet_load(config);
    REQUIRE(catalog.size() == 3);
    const Card& b = by_source(catalog, cards + "/b/club_1.png");
    CHECK(b.rank == 3);
    CHECK(b.has_row);
    const Card& bb = by_source(catalog, cards + "/bb/club_1.png");
    CHECK(bb.rank == 0);
    CHECK_FALSE(bb.has_row);
    CHECK(by_source(catalog, cards + "/b/club_10.png").rank == 9);

    // The card without a row fails the load under strict.
    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config), Catch::Contains("1 card has no popularity row") &&
                                                 Catch::Contains("pop.csv"));
}

TEST_CASE("name rows match every printing, ignoring case", "[catalog][popularity]") {
    ScratchDir dir;
    const std::string cards = dir / "cards";
    write_card(cards + "/alpha/Lightning Bolt.png");
    write_card(cards + "/beta/lightning bolt.jpg");
    write_card(cards + "/beta/Counterspell.webp");
    write_card(cards + "/beta/Island.png");
    write_text(dir / "pop.csv", "name,rank\nLIGHTNING BOLT,5\ncounterspell,2\nisland,900\n");
    CardsConfig config;
    config.dirs = {cards};
    config.popularity = dir / "pop.csv";
    config.use_popularity_weights = true;
    config.strict = true;  // every card has a row
    const Catalog catalog = Catalog::load(config);
    REQUIRE(catalog.size() == 4);
    const Card& a = by_source(catalog, cards + "/alpha/Lightning Bolt.png");
    const Card& b = by_source(catalog, cards + "/beta/lightning bolt.jpg");
    CHECK(a.rank == 5);
    CHECK(b.rank == 5);
    CHECK(a.probability == b.probability);
    CHECK(by_source(catalog, cards + "/beta/Counterspell.webp").rank == 2);
    CHECK(by_source(catalog, cards + "/beta/Counterspell.webp").probability > a.probability);
    CHECK(a.probability > by_source(catalog, cards + "/beta/Island.png").probability);

    // The rank filter applies to matched ranks.
    config.popularity_min = 3;
    config.popularity_max = 100;
    const Catalog filtered = Catalog::load(config);
    REQUIRE(filtered.size() == 2);
    for (const Card& c : filtered.cards()) CHECK(c.rank == 5);
}

TEST_CASE("cards without a row get the lowest weight of the table", "[catalog][popularity]") {
    ScratchDir dir;
    const std::string cards = dir / "cards";
    for (const char* n : {"one", "two", "three", "stray"}) write_card(cards + "/" + n + ".png");
    write_text(dir / "pop.csv", "name,rank\none,1\ntwo,4\nthree,16\n");
    CardsConfig config;
    config.dirs = {cards};
    config.popularity = dir / "pop.csv";
    config.use_popularity_weights = true;
    const Catalog catalog = quiet_load(config);
    REQUIRE(catalog.size() == 4);
    const Card& stray = by_source(catalog, cards + "/stray.png");
    const Card& three = by_source(catalog, cards + "/three.png");
    CHECK(stray.rank == 0);
    CHECK(stray.base_weight == Approx(0.25));
    CHECK(stray.probability == Approx(three.probability));
    CHECK(by_source(catalog, cards + "/one.png").base_weight == Approx(1.0));
    // A range narrower than the default drops the unranked card.
    config.popularity_max = 1000;
    const Catalog ranked = quiet_load(config);
    CHECK(ranked.size() == 3);
}

TEST_CASE("a JSON list with image paths is a card source", "[catalog][popularity]") {
    ScratchDir dir;
    write_card(dir / "images/sol_ring.png");
    write_card(dir / "images/arcane_signet.jpg");
    write_text(dir / "images/broken.png", "not an image");
    write_text(dir / "list.json", R"([
        {"name": "Sol Ring", "edhrec_rank": 1, "image_path": "images/sol_ring.png"},
        {"name": "Arcane Signet", "edhrec_rank": 2, "image_path": "images/arcane_signet.jpg"},
        {"name": "Broken", "edhrec_rank": 3, "image_path": "images/broken.png"},
        {"name": "No Image", "edhrec_rank": 4}
    ])");
    CardsConfig config;
    config.popularity = dir / "list.json";
    config.use_popularity_weights = true;
    const Catalog catalog = quiet_load(config);
    REQUIRE(catalog.size() == 2);
    CHECK(catalog.cards()[0].name == "Sol Ring");
    CHECK(catalog.cards()[0].source == dir / "images/sol_ring.png");
    CHECK(catalog.cards()[0].rank == 1);
    CHECK(catalog.cards()[1].rank == 2);
    CHECK(catalog.cards()[0].probability > catalog.cards()[1].probability);
    CHECK(catalog.load_rgba(1).type() == CV_8UC4);

    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config), Catch::Contains("broken.png"));
}
