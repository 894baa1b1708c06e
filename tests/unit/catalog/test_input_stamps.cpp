// What the catalog records of its inputs for --resume (each card file's size, modification time
// and XXH64; the popularity table's), and popularity names matched to card names with Unicode
// case folding.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>

#include "base/hash.h"
#include "catalog/catalog.h"
#include "catalog_support.h"

using namespace cardsynth;
using namespace cardsynth::testing;
namespace fs = std::filesystem;

namespace {

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

int64_t mtime_ns(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

void write_card(const std::string& path, int shade) {
    fs::create_directories(fs::path(path).parent_path());
    REQUIRE(cv::imwrite(path, cv::Mat(8, 6, CV_8UC3, cv::Scalar(90, 60, shade))));
}

const Card& card_named(const Catalog& catalog, const std::string& name) {
    for (const Card& card : catalog.cards())
        if (card.name == name) return card;
    FAIL("no card named " << name);
    return catalog.cards().front();
}

}  // namespace

TEST_CASE("each card records its file's size, modification time and XXH64", "[catalog][stamps]") {
    ScratchDir dir;
    write_card(dir / "cards/a.png", 10);
    write_card(dir / "cards/b.png", 200);
    CardsConfig config;
    config.dirs = {dir / "cards"};
    const Catalog catalog = quiet_load(config);
    REQUIRE(catalog.size() == 2);
    for (const Card& card : catalog.cards()) {
        const std::string bytes = file_bytes(card.source);
        CHECK(card.file.size == static_cast<int64_t>(bytes.size()));
        CHECK(card.file.hash == xxh64(bytes));
        CHECK(card.file.mtime_ns == mtime_ns(card.source));
    }
    CHECK(catalog.cards()[0].file.hash != catalog.cards()[1].file.hash);
    CHECK(catalog.popularity_path().empty());
}

TEST_CASE("a card rewritten with other pixels gets another stamp", "[catalog][stamps]") {
    ScratchDir dir;
    write_card(dir / "cards/a.png", 10);
    CardsConfig config;
    config.dirs = {dir / "cards"};
    const FileStamp before = quiet_load(config).cards().at(0).file;
    write_card(dir / "cards/a.png", 11);
    const FileStamp after = quiet_load(config).cards().at(0).file;
    CHECK(before.hash != after.hash);
}

TEST_CASE("the popularity table is recorded with its path", "[catalog][stamps]") {
    ScratchDir dir;
    write_card(dir / "cards/a.png", 10);
    const std::string table = "name,rank\na,1\n";
    write_text(dir / "pop.csv", table);
    CardsConfig config;
    config.dirs = {dir / "cards"};
    config.popularity = dir / "pop.csv";
    const Catalog catalog = quiet_load(config);
    CHECK(catalog.popularity_path() == dir / "pop.csv");
    CHECK(catalog.popularity_file().size == static_cast<int64_t>(table.size()));
    CHECK(catalog.popularity_file().hash == xxh64(table));
    CHECK(catalog.popularity_file().mtime_ns == mtime_ns(dir / "pop.csv"));
}

TEST_CASE("built-in cards are stamped by what they are drawn from", "[catalog][stamps]") {
    CardsConfig config;
    config.builtin_count = 5;
    const Catalog catalog = quiet_load(config);
    std::set<uint64_t> hashes;
    for (const Card& card : catalog.cards()) {
        CHECK(card.source == "builtin:" + std::to_string(card.builtin_id));
        CHECK(card.file.size == 0);
        CHECK(card.file.mtime_ns == 0);
        CHECK(card.file == builtin_stamp(card.builtin_id));
        hashes.insert(card.file.hash);
    }
    CHECK(hashes.size() == 5);
}

TEST_CASE("popularity names match card names ignoring case beyond ASCII", "[catalog][unicode]") {
    ScratchDir dir;
    write_card(dir / "cards/éclair.png", 10);
    write_card(dir / "cards/Жар-птица.png", 20);
    write_card(dir / "cards/σοφία.png", 30);
    write_card(dir / "cards/plain.png", 40);
    write_text(dir / "pop.csv", "name,rank\nÉCLAIR,1\nжАР-ПТИЦА,2\nΣΟΦΊΑ,3\nPLAIN,4\n");
    CardsConfig config;
    config.dirs = {dir / "cards"};
    config.popularity = dir / "pop.csv";
    config.use_popularity_weights = true;
    config.strict = true;  // an unmatched card would be an error
    const Catalog catalog = Catalog::load(config);
    CHECK(card_named(catalog, "éclair").rank == 1);
    CHECK(card_named(catalog, "Жар-птица").rank == 2);
    CHECK(card_named(catalog, "σοφία").rank == 3);
    CHECK(card_named(catalog, "plain").rank == 4);
}

TEST_CASE("two rows naming one card in different cases repeat it", "[catalog][unicode]") {
    ScratchDir dir;
    write_card(dir / "cards/éclair.png", 10);
    write_text(dir / "pop.csv", "name,rank\néclair,1\nÉCLAIR,2\n");
    CardsConfig config;
    config.dirs = {dir / "cards"};
    config.popularity = dir / "pop.csv";
    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config), Catch::Contains("repeating a card"));
}
