// /cards and the input record through the writer and back: names that are not UTF-8 are stored
// as valid UTF-8 with their bytes beside them, every card's file stamp and the popularity
// table's come back as written, and a table given no stamps makes a file without a record.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "base/error.h"
#include "dataset/dataset.h"
#include "dataset/dataset_reader.h"
#include "mpi/mpi_context.h"

using namespace cardsynth;
namespace fs = std::filesystem;

namespace {

// One process is a communicator of one; MPI ends when the test program does.
MPI_Comm world() {
    static int argc = 0;
    static char** argv = nullptr;
    static MpiSession session(&argc, &argv);
    return MPI_COMM_WORLD;
}

struct TempFile {
    std::string path;
    TempFile() {
        std::string pattern = (fs::temp_directory_path() / "cardsynth-cards-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        path = (fs::path(dir) / "cards.h5").string();
    }
    ~TempFile() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    std::string dir;
};

DatasetHeader tiny_header() {
    DatasetHeader h;
    h.num_images = 1;
    h.width = 4;
    h.height = 4;
    h.max_cards = 2;
    h.storage = Storage::Raw;
    h.config_yaml = "seed: 1\n";
    return h;
}

CardTable three_cards() {
    CardTable t;
    t.names = {"caf\xE9",
               "\xC3\xA9"
               "clair",
               "Builtin 0001"};
    t.sources = {"cards/caf\xE9.png",
                 "cards/\xC3\xA9"
                 "clair.png",
                 "builtin:1"};
    t.ranks = {3, 1, 0};
    t.weights = {0.25, 0.5, 0.25};
    t.files = {{1234, 1700000000123456789, 0x0123456789ABCDEFull},
               {99, 1700000001000000000, 0xFEDCBA9876543210ull},
               {0, 0, 0x42ull}};
    t.popularity_path = "pop\xE9.csv";
    t.popularity_file = {28, 1700000002000000001, 0x1111222233334444ull};
    return t;
}

void make(const std::string& path, const CardTable& cards) {
    DatasetWriter::create(world(), path, tiny_header(), cards)->close();
}

}  // namespace

TEST_CASE("names that are not UTF-8 are stored as UTF-8 with their bytes kept") {
    TempFile file;
    const CardTable written = three_cards();
    make(file.path, written);
    const CardTable read = DatasetReader(file.path).cards();
    CHECK(read.names == std::vector<std::string>{"caf\xEF\xBF\xBD",
                                                 "\xC3\xA9"
                                                 "clair",
                                                 "Builtin 0001"});
    CHECK(read.sources[0] == "cards/caf\xEF\xBF\xBD.png");
    CHECK(read.name_bytes == written.names);
    CHECK(read.source_bytes == written.sources);
    CHECK(read.ranks == written.ranks);
    CHECK(read.weights == written.weights);
}

TEST_CASE("the input record comes back as written, from the reader and the writer") {
    TempFile file;
    const CardTable written = three_cards();
    make(file.path, written);
    for (const CardTable& read : {DatasetReader(file.path).cards(),
                                  DatasetWriter::open(world(), file.path)->read_cards()}) {
        REQUIRE(read.files.size() == 3);
        for (size_t i = 0; i < 3; ++i) CHECK(read.files[i] == written.files[i]);
        CHECK(read.popularity_path == written.popularity_path);
        CHECK(read.popularity_file == written.popularity_file);
    }
}

TEST_CASE("a table without stamps makes a file without a record") {
    TempFile file;
    CardTable written = three_cards();
    written.files.clear();
    make(file.path, written);
    const CardTable read = DatasetReader(file.path).cards();
    CHECK(read.files.empty());
    CHECK(read.popularity_path.empty());
    CHECK(read.name_bytes == written.names);
}

TEST_CASE("a run without a popularity table records none") {
    TempFile file;
    CardTable written = three_cards();
    written.popularity_path.clear();
    make(file.path, written);
    const CardTable read = DatasetReader(file.path).cards();
    CHECK(read.files.size() == 3);
    CHECK(read.popularity_path.empty());
    CHECK(read.popularity_file == FileStamp{});
}

TEST_CASE("stamps for some cards only are refused") {
    TempFile file;
    CardTable written = three_cards();
    written.files.pop_back();
    CHECK_THROWS_AS(make(file.path, written), DatasetError);
}
