// OutputFile under MPI: the path checks decide the same on every rank, a new file appears as
// OUT.partial and becomes OUT only when complete, --resume finds what is there, and a resumed file
// made with another configuration is refused. Run with --order decl: all ranks enter the same
// collective calls.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <mpi.h>

#include "base/error.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "mpi/mpi_context.h"
#include "run/output_file.h"

namespace fs = std::filesystem;
using namespace cardsynth;
using Catch::Matchers::Contains;

namespace {

// A directory every rank shares, empty at the start of each test.
std::string fresh_dir(const MpiContext& mpi, const std::string& name) {
    const std::string dir = std::string(CARDSYNTH_BINARY_DIR) + "/tmp/output_file/" + name;
    if (mpi.root()) {
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    mpi.barrier();
    return dir;
}

Config small_config(const std::string& path) {
    Config c;
    c.num_images = 4;
    c.frame.width = 64;
    c.frame.height = 48;
    c.cards.builtin_count = 3;
    c.scene.min_cards = 1;
    c.scene.max_cards = 2;
    c.output.path = path;
    return c;
}

// The exit code of what `config` makes OutputFile throw, 0 when nothing; the same on every rank
// (the ranks that did not fail carry the failing rank's code, not its type).
int exit_code_of(const Config& config, const MpiContext& mpi) {
    try {
        OutputFile(config, false, mpi);
    } catch (const Error& e) {
        return e.exit_code();
    }
    return 0;
}

bool exists(const std::string& p) {
    return fs::exists(p);
}

}  // namespace

TEST_CASE("a new output is written as OUT.partial and renamed to OUT when complete") {
    MpiContext mpi;
    const std::string out = fresh_dir(mpi, "create") + "/out.h5";
    const Config config = small_config(out);
    const Catalog catalog = Catalog::load(config.cards);
    const OutputFile output(config, false, mpi);
    REQUIRE_FALSE(output.already_complete());
    REQUIRE_FALSE(output.resuming());
    REQUIRE(output.partial() == out + ".partial");
    auto writer = output.open(catalog);
    mpi.barrier();
    CHECK(exists(out + ".partial"));
    CHECK_FALSE(exists(out + ".partial.new"));
    CHECK_FALSE(exists(out));
    output.complete(std::move(writer));
    mpi.barrier();
    CHECK(exists(out));
    CHECK_FALSE(exists(out + ".partial"));
}

TEST_CASE("an existing output is refused without --overwrite, on every rank") {
    MpiContext mpi;
    const std::string dir = fresh_dir(mpi, "exists");
    const std::string out = dir + "/out.h5";
    if (mpi.root()) std::ofstream(out) << "not a dataset";
    mpi.barrier();
    Config config = small_config(out);
    CHECK(exit_code_of(config, mpi) == kExitUsage);
    CHECK_THROWS_WITH(OutputFile(config, false, mpi), Contains("pass --overwrite"));
    config.output.overwrite = true;
    CHECK(exit_code_of(config, mpi) == 0);
    CHECK_THROWS_WITH(OutputFile(small_config(dir + "/missing/out.h5"), false, mpi),
                      Contains("does not exist"));
}

TEST_CASE("--resume finishes OUT.partial, finds OUT complete, or starts afresh") {
    MpiContext mpi;
    const std::string out = fresh_dir(mpi, "resume") + "/out.h5";
    const Config config = small_config(out);
    CHECK_FALSE(OutputFile(config, true, mpi).resuming());  // nothing there: start it
    const Catalog catalog = Catalog::load(config.cards);
    {
        const OutputFile output(config, false, mpi);
        output.open(catalog)->close();
    }
    {
        const OutputFile again(config, true, mpi);
        REQUIRE(again.resuming());
        again.complete(again.open(catalog));
    }
    mpi.barrier();
    CHECK(OutputFile(config, true, mpi).already_complete());
}

TEST_CASE("--resume refuses a partial file made with another configuration") {
    MpiContext mpi;
    const std::string out = fresh_dir(mpi, "differs") + "/out.h5";
    Config config = small_config(out);
    const Catalog catalog = Catalog::load(config.cards);
    OutputFile(config, false, mpi).open(catalog)->close();
    config.seed = 99;
    const OutputFile output(config, true, mpi);
    REQUIRE(output.resuming());
    CHECK_THROWS_WITH(output.open(catalog), Contains("'seed' differs"));
}

TEST_CASE("--resume of an OUT that is not this configuration's complete dataset is refused") {
    MpiContext mpi;
    const std::string dir = fresh_dir(mpi, "resume_foreign");
    const std::string text = dir + "/text.h5";
    if (mpi.root()) std::ofstream(text) << "not a dataset";
    mpi.barrier();
    CHECK_THROWS_WITH(OutputFile(small_config(text), true, mpi),
                      Contains("not a cardsynth dataset") && Contains(text));
    const std::string out = dir + "/out.h5";
    Config config = small_config(out);
    const Catalog catalog = Catalog::load(config.cards);
    {
        const OutputFile output(config, false, mpi);
        output.complete(output.open(catalog));
    }
    config.seed = 99;
    CHECK_THROWS_WITH(OutputFile(config, true, mpi), Contains("'seed' differs") && Contains(out));
}

TEST_CASE("an output is locked while its OutputFile lives, and released after") {
    MpiContext mpi;
    const std::string out = fresh_dir(mpi, "lock") + "/out.h5";
    const Config config = small_config(out);
    {
        const OutputFile first(config, false, mpi);
        mpi.barrier();
        CHECK(exists(out + ".lock"));
        // This process is alive, so its own lock refuses a second claim like any other run's.
        CHECK_THROWS_WITH(OutputFile(config, false, mpi), Contains("in use by another run"));
        CHECK(exists(out + ".lock"));
        mpi.barrier();  // every rank looks before rank 0 releases the lock
    }
    mpi.barrier();
    CHECK_FALSE(exists(out + ".lock"));
    mpi.barrier();  // every rank looks before the next run takes the lock again
    CHECK(exit_code_of(config, mpi) == 0);
}

TEST_CASE("the per-image size bound counts pixels, mask, label slots and index entries") {
    Config c = small_config("x.h5");
    c.output.storage = Storage::Raw;
    const int64_t px = 64 * 48;
    const int64_t raw = stored_bytes_per_image(c);
    c.output.masks = true;
    CHECK(stored_bytes_per_image(c) == raw + px);
    c.scene.max_cards = 3;
    CHECK(stored_bytes_per_image(c) == raw + px + 76);  // one more label slot
    CHECK(raw > px * 3);
}
