// The dataset writer under MPI: every rank writes its share of each round into one file through
// collective parallel HDF5, frames directly into their place (some ranks with nothing to write),
// then rank 0 reads the file back and checks every byte. Run with --order decl: all ranks must
// enter the same collective calls.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <mpi.h>

#include "base/error.h"
#include "dataset/dataset.h"
#include "dataset/dataset_reader.h"
#include "dataset/direct_file.h"
#include "dataset/hdf5_handle.h"
#include "encode/encode.h"

using namespace cardsynth;
using Catch::Matchers::Contains;

namespace {

constexpr int kN = 10, kM = 3, kW = 32, kH = 24;

int rank() {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int ranks() {
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

// A path every rank agrees on (rank 0 names it), removed if a previous run left it.
std::string shared_path(const std::string& name) {
    std::string path;
    if (rank() == 0) {
        std::filesystem::path dir = std::filesystem::path(CARDSYNTH_BINARY_DIR) / "tests" / "tmp";
        std::filesystem::create_directories(dir);
        path = (dir / ("dataset_" + name + "_np" + std::to_string(ranks()) + ".h5")).string();
        std::filesystem::remove(path);
    }
    int size = static_cast<int>(path.size());
    MPI_Bcast(&size, 1, MPI_INT, 0, MPI_COMM_WORLD);
    path.resize(static_cast<size_t>(size));
    MPI_Bcast(path.data(), size, MPI_CHAR, 0, MPI_COMM_WORLD);
    return path;
}

DatasetHeader make_header(Storage storage, bool masks) {
    DatasetHeader h;
    h.seed = 0xFEEDFACECAFEBEEFull;  // past INT64_MAX: the attribute must be unsigned
    h.num_images = kN;
    h.width = kW;
    h.height = kH;
    h.max_cards = kM;
    h.storage = storage;
    h.masks = masks;
    h.config_yaml = "seed: 1\nnum_images: 10\nframe: {width: 32, height: 24}\n";
    return h;
}

CardTable make_cards() {
    CardTable t;
    t.names = {"Ace of Spades", "Zwölf", "Queen"};
    t.sources = {"builtin", "cards/zwölf.png", "a/rather/longer/source/path.jpg"};
    t.ranks = {1, 0, 7};
    t.weights = {0.5, 0.25, 0.25};
    return t;
}

uint8_t pixel(int64_t i, int y, int x, int c) {
    return static_cast<uint8_t>(i * 31 + y * 7 + x * 3 + c * 101);
}

cv::Mat frame(int64_t i) {
    cv::Mat rgb(kH, kW, CV_8UC3);
    for (int y = 0; y < kH; ++y)
        for (int x = 0; x < kW; ++x)
            for (int c = 0; c < 3; ++c) rgb.ptr<uint8_t>(y)[x * 3 + c] = pixel(i, y, x, c);
    return rgb;
}

// The labels image i is given; count varies 0..M so padding is exercised.
CardLabel label(int64_t i, int k) {
    CardLabel c;
    c.card_id = static_cast<int32_t>((i + k) % 3);
    for (int j = 0; j < 8; ++j) c.corners[j] = static_cast<float>(i * 10 + k + j * 0.25 - 3);
    for (int j = 0; j < 4; ++j) c.corner_visible[j] = static_cast<uint8_t>((i + k + j) % 3);
    c.bbox = {static_cast<float>(k), 1.0f, static_cast<float>(k + 5), 7.5f};
    c.bbox_full = {0.0f, 0.5f, static_cast<float>(kW), static_cast<float>(i + 1)};
    c.visible_fraction = static_cast<float>(k + 1) / (kM + 1);
    return c;
}

int count_of(int64_t i) {
    return static_cast<int>(i % (kM + 1));
}

// Encoded blobs of varied sizes; image 7 spans more than one 1 MiB chunk.
std::vector<uint8_t> blob(int64_t i) {
    size_t size = i == 7 ? (3u << 19) + 11 : 100 + 37 * static_cast<size_t>(i * i);
    std::vector<uint8_t> b(size);
    for (size_t j = 0; j < size; ++j) b[j] = static_cast<uint8_t>(j * 13 + i * 7 + (j >> 8));
    return b;
}

std::vector<uint8_t> png(int64_t i) {
    std::vector<uint8_t> out;
    encode_image(frame(i), Storage::Png, 90, out);
    return out;
}

ImageLabels labels_of(int64_t i) {
    ImageLabels l;
    for (int k = 0; k < count_of(i); ++k) l.cards.push_back(label(i, k));
    return l;
}

RoundData make_round(const DatasetHeader& h, int64_t begin, int64_t end,
                     const LabelSchema& schema = default_label_schema()) {
    RoundData r;
    r.begin = begin;
    r.end = end;
    reset_labels(r, end - begin, kM, schema);
    for (int64_t i = begin; i < end; ++i) {
        if (h.storage == Storage::Raw) {
            cv::Mat f = frame(i);
            r.raw.insert(r.raw.end(), f.datastart, f.dataend);
        } else if (h.storage == Storage::Png) {
            r.encoded.push_back(png(i));
        } else {
            r.encoded.push_back(blob(i));
        }
        if (h.masks) {
            for (int p = 0; p < kH * kW; ++p)
                r.masks.push_back(static_cast<uint8_t>((p + i) % (count_of(i) + 1)));
        }
        store_labels(r, i - begin, kM, labels_of(i), schema);
    }
    return r;
}

// Images [lo, hi) split over the ranks, except `idle`, which gets an empty share.
RoundData my_share(const DatasetHeader& h, int64_t lo, int64_t hi, int idle = -1,
                   const LabelSchema& schema = default_label_schema()) {
    if (ranks() == 1) idle = -1;
    if (rank() == idle) return make_round(h, lo, lo, schema);
    const int sharing = ranks() - (idle >= 0 ? 1 : 0);
    const int me = rank() - (idle >= 0 && rank() > idle ? 1 : 0);
    const int64_t n = hi - lo;
    return make_round(h, lo + n * me / sharing, lo + n * (me + 1) / sharing, schema);
}

void write_checked(DatasetWriter& w, const RoundData& mine) {
    w.write_round(mine);
    std::string why;
    const bool collective = w.last_round_collective(why);
    INFO("rank " << rank() << ": " << why);
    CHECK(collective);
    CHECK(why.empty());
}

// Rank 0's read-back of images [0, upto) against what make_round wrote.
void check_contents(const DatasetReader& reader, int64_t upto) {
    const DatasetHeader& h = reader.header();
    for (int64_t i = 0; i < upto; ++i) {
        INFO("image " << i);
        if (h.storage == Storage::Raw) {
            cv::Mat got = reader.image(i);
            REQUIRE(got.rows == kH);
            REQUIRE(got.cols == kW);
            REQUIRE(got.type() == CV_8UC3);
            CHECK(cv::countNonZero(cv::Mat(got != frame(i)).reshape(1)) == 0);
            std::vector<uint8_t> bytes = reader.image_bytes(i);
            cv::Mat f = frame(i);
            CHECK(bytes == std::vector<uint8_t>(f.datastart, f.dataend));
        } else if (h.storage == Storage::Png) {
            CHECK(reader.image_bytes(i) == png(i));
            cv::Mat got = reader.image(i);
            CHECK(cv::countNonZero(cv::Mat(got != frame(i)).reshape(1)) == 0);
        } else {
            CHECK(reader.image_bytes(i) == blob(i));
        }
        ImageLabels labels = reader.labels(i);
        REQUIRE(labels.cards.size() == static_cast<size_t>(count_of(i)));
        for (int k = 0; k < count_of(i); ++k) {
            CardLabel want = label(i, k);
            const CardLabel& got = labels.cards[k];
            CHECK(got.card_id == want.card_id);
            CHECK(got.corners == want.corners);
            CHECK(got.corner_visible == want.corner_visible);
            CHECK(got.bbox == want.bbox);
            CHECK(got.bbox_full == want.bbox_full);
            CHECK(got.visible_fraction == want.visible_fraction);
        }
    }
}

void check_header(const DatasetReader& reader, const DatasetHeader& want) {
    const DatasetHeader& h = reader.header();
    CHECK(reader.schema() == "cardsynth/1");
    CHECK(h.seed == want.seed);
    CHECK(h.num_images == want.num_images);
    CHECK(h.width == want.width);
    CHECK(h.height == want.height);
    CHECK(h.max_cards == want.max_cards);
    CHECK(h.storage == want.storage);
    CHECK(h.masks == want.masks);
    CHECK(h.config_yaml == want.config_yaml);
    CHECK(h.created_utc.size() == 20);  // 2024-01-02T03:04:05Z
    CHECK(h.created_utc.back() == 'Z');
    const CardTable cards = make_cards();
    CHECK(reader.cards().names == cards.names);
    CHECK(reader.cards().sources == cards.sources);
    CHECK(reader.cards().ranks == cards.ranks);
    CHECK(reader.cards().weights == cards.weights);
}

// The contract validator (scripts/validate_dataset.py) on a file: its exit status and output.
int validate(const std::string& path, std::string* output = nullptr) {
    const std::string command = "/usr/bin/python3 '" + std::string(CARDSYNTH_SOURCE_DIR) +
                                "/scripts/validate_dataset.py' '" + path + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string text;
    char buffer[512];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
    const int status = pclose(pipe);
    INFO(text);
    if (output) *output = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<uint8_t> expected_done(int64_t upto) {
    std::vector<uint8_t> done(kN, 0);
    for (int64_t i = 0; i < upto; ++i) done[i] = 1;
    return done;
}

// A column of this test's own, to show that a schema grows by one row: the centre of the
// card's visible box, padded with -1.
void fill_bbox_center(const CardLabel& c, void* out) {
    const float centre[2] = {(c.bbox[0] + c.bbox[2]) / 2, (c.bbox[1] + c.bbox[3]) / 2};
    std::memcpy(out, centre, sizeof centre);
}

LabelSchema with_bbox_center() {
    std::vector<LabelColumn> columns = default_label_schema().columns();
    columns.push_back({"bbox_center",
                       ElementType::Float32,
                       LabelExtent::PerSlot,
                       {1, {2}},
                       -1,
                       &fill_bbox_center});
    return LabelSchema(columns);
}

std::vector<float> floats(const std::vector<uint8_t>& bytes) {
    std::vector<float> out(bytes.size() / sizeof(float));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

}  // namespace

TEST_CASE("raw frames written by every rank read back exactly", "[dataset][mpi]") {
    const std::string path = shared_path("raw");
    const DatasetHeader header = make_header(Storage::Raw, true);
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
    CHECK(writer->read_done() == expected_done(0));
    // Round one leaves rank 0 without work; round two shares among everyone.
    write_checked(*writer, my_share(header, 0, 6, 0));
    write_checked(*writer, my_share(header, 6, kN));
    CHECK(writer->read_done() == expected_done(kN));
    writer->finish();

    if (rank() == 0) {
        DatasetReader reader(path);
        check_header(reader, header);
        CHECK(reader.complete());
        CHECK(reader.done() == expected_done(kN));
        check_contents(reader, kN);
        std::vector<int32_t> ids;
        for (int64_t i = 0; i < kN; ++i)
            for (int k = 0; k < count_of(i); ++k) ids.push_back(label(i, k).card_id);
        CHECK(reader.all_card_ids() == ids);
        CHECK(validate(path) == 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("encoded bytes of varied sizes get offsets over two growing rounds", "[dataset][mpi]") {
    const std::string path = shared_path("jpeg");
    const DatasetHeader header = make_header(Storage::Jpeg, false);
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
    write_checked(*writer, my_share(header, 0, 5));
    // The last rank sits this round out.
    write_checked(*writer, my_share(header, 5, kN, ranks() - 1));
    writer->finish();

    if (rank() == 0) {
        DatasetReader reader(path);
        check_header(reader, header);
        CHECK(reader.complete());
        CHECK(reader.done() == expected_done(kN));
        check_contents(reader, kN);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("png frames decode to the pixels written", "[dataset][mpi]") {
    const std::string path = shared_path("png");
    const DatasetHeader header = make_header(Storage::Png, true);
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
    write_checked(*writer, my_share(header, 0, kN));
    writer->finish();
    if (rank() == 0) {
        DatasetReader reader(path);
        CHECK(reader.complete());
        check_contents(reader, kN);
        CHECK(validate(path) == 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a closed, unfinished file reopens with its done bits and resumes", "[dataset][mpi]") {
    const std::string path = shared_path("resume");
    const DatasetHeader header = make_header(Storage::Png, true);
    {
        auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
        write_checked(*writer, my_share(header, 0, 4));
        writer->close();
    }
    if (rank() == 0) {
        DatasetReader reader(path);
        CHECK_FALSE(reader.complete());
        CHECK(reader.done() == expected_done(4));
        // The validator refuses an unfinished file, for that reason only.
        std::string report;
        CHECK(validate(path, &report) == 1);
        CHECK_THAT(report, Contains("complete is 0") && Contains("/done is not 1 for 6 images"));
        CHECK(std::count(report.begin(), report.end(), '\n') == 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    auto writer = DatasetWriter::open(MPI_COMM_WORLD, path);
    const DatasetHeader& h = writer->header();
    CHECK(h.seed == header.seed);
    CHECK(h.num_images == kN);
    CHECK(h.width == kW);
    CHECK(h.height == kH);
    CHECK(h.max_cards == kM);
    CHECK(h.storage == Storage::Png);
    CHECK(h.masks);
    CHECK(h.config_yaml == header.config_yaml);
    CHECK_FALSE(h.created_utc.empty());
    CHECK(writer->read_done() == expected_done(4));
    // Appending after reopening must not overwrite the bytes of the first run.
    write_checked(*writer, my_share(header, 4, kN, ranks() - 1));
    writer->finish();

    if (rank() == 0) {
        DatasetReader reader(path);
        CHECK(reader.complete());
        CHECK(reader.done() == expected_done(kN));
        check_contents(reader, kN);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("files that are not cardsynth/1 are refused with their name", "[dataset][mpi]") {
    const std::string plain = shared_path("plain");
    const std::string other = shared_path("other_schema");
    if (rank() == 0) {
        h5::File::create_parallel(MPI_COMM_SELF, plain).close();
        h5::File f = h5::File::create_parallel(MPI_COMM_SELF, other);
        f.write_attribute("schema", std::string("somethingelse/2"));
        f.close();
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK_THROWS_MATCHES(DatasetWriter::open(MPI_COMM_WORLD, plain), DatasetError,
                         Catch::Matchers::Message("'" + plain +
                                                  "' is not a cardsynth dataset (no schema "
                                                  "attribute)"));
    CHECK_THROWS_WITH(DatasetWriter::open(MPI_COMM_WORLD, other),
                      Contains(other) && Contains("somethingelse/2"));
    if (rank() == 0) {
        CHECK_THROWS_WITH(DatasetReader(plain), Contains(plain));
        CHECK_THROWS_WITH(DatasetReader(other), Contains(other));
        CHECK_THROWS_WITH(DatasetReader(plain + ".missing"), Contains(plain + ".missing"));
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("create refuses an existing file and a missing directory", "[dataset][mpi]") {
    const std::string path = shared_path("exists");
    const DatasetHeader header = make_header(Storage::Raw, false);
    DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards())->close();
    CHECK_THROWS_WITH(DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards()),
                      Contains("cannot create HDF5 file '" + path + "'"));
    const std::string missing = path + ".d/no/such/dir/out.h5";
    CHECK_THROWS_WITH(DatasetWriter::create(MPI_COMM_WORLD, missing, header, make_cards()),
                      Contains(missing));
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a malformed round throws on every rank instead of hanging", "[dataset][mpi]") {
    const std::string path = shared_path("malformed");
    const DatasetHeader header = make_header(Storage::Raw, false);
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
    RoundData mine = my_share(header, 0, kN);
    if (rank() == ranks() - 1) mine.labels[0].push_back(1);
    CHECK_THROWS_AS(writer->write_round(mine), DatasetError);
    // The file is still usable afterwards.
    write_checked(*writer, my_share(header, 0, kN));
    writer->finish();
    if (rank() == 0) CHECK(DatasetReader(path).complete());
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a column added to the schema is written, described, read back and validated",
          "[dataset][mpi]") {
    const std::string path = shared_path("extra_column");
    const DatasetHeader header = make_header(Storage::Png, false);
    const LabelSchema schema = with_bbox_center();
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards(), schema);
    write_checked(*writer, my_share(header, 0, 4, -1, schema));
    writer->close();
    // Resuming must fill every column of the file: a writer without the extra one is refused.
    CHECK_THROWS_WITH(DatasetWriter::open(MPI_COMM_WORLD, path),
                      Contains(path) && Contains("bbox_center"));
    writer = DatasetWriter::open(MPI_COMM_WORLD, path, schema);
    write_checked(*writer, my_share(header, 4, kN, 0, schema));
    writer->finish();

    if (rank() == 0) {
        DatasetReader reader(path, schema);
        CHECK(reader.complete());
        check_contents(reader, kN);
        for (int64_t i = 0; i < kN; ++i) {
            INFO("image " << i);
            std::vector<float> want(2 * kM, -1.0f);
            for (int k = 0; k < count_of(i); ++k) {
                const CardLabel c = label(i, k);
                want[2 * k] = (c.bbox[0] + c.bbox[2]) / 2;
                want[2 * k + 1] = (c.bbox[1] + c.bbox[3]) / 2;
            }
            CHECK(floats(reader.label_bytes("bbox_center", i)) == want);
        }
        const std::string described =
            h5::File::open_read(path).read_string_attribute_of("/labels", "columns");
        CHECK_THAT(described, Contains(R"({"name": "bbox_center", "dtype": "float32", )"
                                       R"("per": "slot", "shape": [2], "padding": -1})"));
        // Readers of the default columns still read the file, and so does the validator.
        check_contents(DatasetReader(path), kN);
        CHECK(validate(path) == 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a label column of another type or shape is refused by name", "[dataset][mpi]") {
    const DatasetHeader header = make_header(Storage::Raw, false);
    // The cardsynth/1 columns with `name` changed by `change`.
    auto changed = [](const char* name, void (*change)(LabelColumn&)) {
        std::vector<LabelColumn> columns = default_label_schema().columns();
        change(columns[default_label_schema().index_of(name)]);
        return LabelSchema(columns);
    };
    const LabelSchema byte_fraction = changed("visible_fraction", [](LabelColumn& c) {
        c.type = ElementType::UInt8;
        c.fill_slot = [](const CardLabel&, void* out) { *static_cast<uint8_t*>(out) = 1; };
    });
    const LabelSchema flat_corners = changed("corners", [](LabelColumn& c) {
        c.shape = EntryShape{1, {8}};
    });
    const std::string type_path = shared_path("wrong_type"),
                      shape_path = shared_path("wrong_shape");
    DatasetWriter::create(MPI_COMM_WORLD, type_path, header, make_cards(), byte_fraction)->close();
    DatasetWriter::create(MPI_COMM_WORLD, shape_path, header, make_cards(), flat_corners)->close();
    CHECK_THROWS_WITH(DatasetWriter::open(MPI_COMM_WORLD, type_path), Contains(type_path));
    CHECK_THROWS_WITH(DatasetWriter::open(MPI_COMM_WORLD, shape_path), Contains(shape_path));
    if (rank() == 0) {
        CHECK_THROWS_WITH(DatasetReader(type_path),
                          Contains("'/labels/visible_fraction' in '" + type_path) &&
                              Contains("is uint8, expected float32"));
        CHECK_THROWS_WITH(DatasetReader(shape_path),
                          Contains("'/labels/corners' in '" + shape_path) &&
                              Contains("[10, 3, 8], expected [10, 3, 4, 2]"));
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("block-sized frames are contiguous, aligned and read back exactly", "[dataset][mpi]") {
    // 64 x 64 frames are whole 4096-byte blocks, the case that skips every copy; the 32 x 24
    // frames of the other tests start and end inside blocks.
    const std::string path = shared_path("blocks");
    DatasetHeader header = make_header(Storage::Raw, true);
    header.width = header.height = 64;
    const size_t pixels = 64 * 64;
    auto byte = [](int64_t i, size_t j) {
        return static_cast<uint8_t>(i * 131 + j * 7 + (j >> 12));
    };
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
    for (const auto& [lo, hi] : {std::pair<int64_t, int64_t>{0, 3}, {3, kN}}) {
        RoundData mine = my_share(header, lo, hi);
        mine.raw.resize(mine.images() * pixels * 3);
        mine.masks.resize(mine.images() * pixels);
        for (int64_t i = mine.begin; i < mine.end; ++i) {
            for (size_t j = 0; j < pixels * 3; ++j)
                mine.raw[(i - mine.begin) * pixels * 3 + j] = byte(i, j);
            for (size_t j = 0; j < pixels; ++j)
                mine.masks[(i - mine.begin) * pixels + j] = byte(i, j) % (count_of(i) + 1);
        }
        write_checked(*writer, mine);
    }
    WARN("frames written " << (writer->frames_direct() ? "around" : "through")
                           << " the page cache");
    writer->finish();

    if (rank() == 0) {
        h5::File file = h5::File::open_read(path);
        for (const char* name : {"/images", "/masks"}) {
            const std::optional<uint64_t> at = file.open_dataset(name).contiguous_offset();
            INFO(name);
            REQUIRE(at.has_value());
            CHECK(*at % DirectFile::kBlock == 0);
        }
        DatasetReader reader(path);
        CHECK(reader.done() == expected_done(kN));
        for (int64_t i = 0; i < kN; ++i) {
            INFO("image " << i);
            std::vector<uint8_t> want(pixels * 3);
            for (size_t j = 0; j < want.size(); ++j) want[j] = byte(i, j);
            CHECK(reader.image_bytes(i) == want);
        }
        CHECK(validate(path) == 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

TEST_CASE("a frame write that fails on one rank fails on all and sets no /done", "[dataset][mpi]") {
    const std::string path = shared_path("failed_frames");
    const DatasetHeader header = make_header(Storage::Raw, true);
    auto writer = DatasetWriter::create(MPI_COMM_WORLD, path, header, make_cards());
    write_checked(*writer, my_share(header, 0, 4));
    const bool failing = rank() == ranks() - 1;
    if (failing) writer->fail_frame_writes_for_tests();
    // Labels are written collectively after the frames: a rank that went on alone would hang.
    std::string error;
    try {
        writer->write_round(my_share(header, 4, kN));
    } catch (const DatasetError& e) {
        error = e.what();
    }
    if (failing)
        CHECK_THAT(error, Contains("failure injected") && Contains("/images"));
    else
        CHECK_THAT(error, Contains("another rank could not write its frames"));
    writer->close();
    if (rank() == 0) {
        DatasetReader reader(path);
        CHECK(reader.done() == expected_done(4));
        check_contents(reader, 4);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
