// Card image files: header probing, every way a file can be broken, every pixel layout decoded to
// RGBA, Catalog::load over directories of good and bad cards, and the built-in deck.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include <turbojpeg.h>
#include <opencv2/imgcodecs.hpp>

#include "base/error.h"
#include "base/rng.h"
#include "catalog/builtin_deck.h"
#include "catalog/card_image.h"
#include "catalog/catalog.h"
#include "catalog/image_probe.h"
#include "catalog_support.h"

using namespace cardsynth;
using namespace cardsynth::testing;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

void write_bytes(const std::string& path, const Bytes& bytes) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A JPEG from pixels in `format` (TJPF_RGB, TJPF_GRAY, TJPF_CMYK).
Bytes encode_jpeg(const Bytes& pixels, int w, int h, int format, int subsamp, int quality = 95) {
    tjhandle tj = tjInitCompress();
    REQUIRE(tj != nullptr);
    unsigned char* out = nullptr;
    unsigned long size = 0;
    const int rc =
        tjCompress2(tj, pixels.data(), w, 0, h, format, &out, &size, subsamp, quality, 0);
    INFO(tjGetErrorStr2(tj));
    REQUIRE(rc == 0);
    Bytes bytes(out, out + size);
    tjFree(out);
    tjDestroy(tj);
    return bytes;
}

// Noisy RGB pixels, so that the entropy-coded data is long enough to cut.
Bytes noise_rgb(int w, int h, uint64_t seed) {
    Rng rng(seed, 0);
    Bytes px(size_t(w) * h * 3);
    for (auto& v : px) v = static_cast<uint8_t>(rng.uniform_int(0, 255));
    return px;
}

uint32_t crc32(const uint8_t* data, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) {
        c ^= data[i];
        for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

void put_be32(Bytes& b, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

void png_chunk(Bytes& png, const char* type, const Bytes& data) {
    put_be32(png, static_cast<uint32_t>(data.size()));
    Bytes body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    png.insert(png.end(), body.begin(), body.end());
    put_be32(png, crc32(body.data(), body.size()));
}

// A PNG written by hand: IHDR (+ PLTE and tRNS for palettes), the rows in one stored (not
// compressed) deflate block, IEND. `rows` already holds a filter byte per row.
Bytes make_png(uint32_t w, uint32_t h, uint8_t depth, uint8_t colour_type, const Bytes& rows,
               const Bytes& plte = {}, const Bytes& trns = {}) {
    Bytes png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    Bytes ihdr;
    put_be32(ihdr, w);
    put_be32(ihdr, h);
    ihdr.insert(ihdr.end(), {depth, colour_type, 0, 0, 0});
    png_chunk(png, "IHDR", ihdr);
    if (!plte.empty()) png_chunk(png, "PLTE", plte);
    if (!trns.empty()) png_chunk(png, "tRNS", trns);
    Bytes z = {0x78, 0x01, 0x01};
    const uint16_t len = static_cast<uint16_t>(rows.size());
    z.insert(z.end(), {uint8_t(len & 0xFF), uint8_t(len >> 8), uint8_t(~len & 0xFF),
                       uint8_t((~len >> 8) & 0xFF)});
    z.insert(z.end(), rows.begin(), rows.end());
    uint32_t a = 1, b = 0;
    for (uint8_t v : rows) a = (a + v) % 65521, b = (b + a) % 65521;
    put_be32(z, (b << 16) | a);
    png_chunk(png, "IDAT", z);
    png_chunk(png, "IEND", {});
    return png;
}

// Runs fn with stderr sent to a file, and returns what was written there.
std::string capture_stderr(const std::function<void()>& fn) {
    ScratchDir dir;
    const std::string path = dir / "stderr.txt";
    std::fflush(stderr);
    const int saved = ::dup(2);
    FILE* f = std::fopen(path.c_str(), "w");
    ::dup2(fileno(f), 2);
    try {
        fn();
    } catch (...) {
        std::fflush(stderr);
        ::dup2(saved, 2);
        ::close(saved);
        std::fclose(f);
        throw;
    }
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::fclose(f);
    const Bytes bytes = read_bytes(path);
    return std::string(bytes.begin(), bytes.end());
}

std::string check(const std::string& path, int64_t max_pixels = 100000000) {
    int w = 0, h = 0;
    return check_card_file(path, max_pixels, w, h);
}

cv::Vec4b px(const cv::Mat& m, int x, int y) {
    return m.at<cv::Vec4b>(y, x);
}

}  // namespace

TEST_CASE("probe reads the declared size of JPEG, PNG and WebP", "[catalog][probe]") {
    ImageHeader h;
    std::string why;
    const Bytes jpeg = encode_jpeg(noise_rgb(40, 24, 1), 40, 24, TJPF_RGB, TJSAMP_420);
    REQUIRE(probe_image_header(jpeg.data(), jpeg.size(), h, why));
    CHECK(h.format == ImageFormat::Jpeg);
    CHECK(h.width == 40);
    CHECK(h.height == 24);

    const Bytes png = make_png(100000, 70000, 8, 2, {});
    REQUIRE(probe_image_header(png.data(), png.size(), h, why));
    CHECK(h.format == ImageFormat::Png);
    CHECK(h.width == 100000);
    CHECK(h.height == 70000);

    ScratchDir dir;
    cv::Mat bgra(12, 30, CV_8UC4, cv::Scalar(10, 20, 30, 255));
    REQUIRE(cv::imwrite(dir / "lossless.webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 101}));
    cv::Mat bgr(12, 30, CV_8UC3, cv::Scalar(10, 20, 30));
    REQUIRE(cv::imwrite(dir / "lossy.webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 80}));
    for (const char* name : {"lossless.webp", "lossy.webp"}) {
        const Bytes webp = read_bytes(dir / name);
        INFO(name);
        REQUIRE(probe_image_header(webp.data(), webp.size(), h, why));
        CHECK(h.format == ImageFormat::Webp);
        CHECK(h.width == 30);
        CHECK(h.height == 12);
    }
    // VP8X, the extended header, written by hand.
    Bytes vp8x = {'R', 'I', 'F', 'F', 30, 0,    0, 0, 'W', 'E',  'B',  'P', 'V',  'P',  '8',
                  'X', 10,  0,   0,   0,  0x10, 0, 0, 0,   0xE7, 0x03, 0,   0xCF, 0x07, 0};
    REQUIRE(probe_image_header(vp8x.data(), vp8x.size(), h, why));
    CHECK(h.width == 1000);
    CHECK(h.height == 2000);

    const std::string text = "hello, this is not an image";
    CHECK_FALSE(
        probe_image_header(reinterpret_cast<const uint8_t*>(text.data()), text.size(), h, why));
    CHECK(why == "not a JPEG, PNG or WebP file");
}

TEST_CASE("probe never reads past the bytes it is given", "[catalog][probe]") {
    ScratchDir dir;
    cv::Mat bgr(9, 11, CV_8UC3, cv::Scalar(1, 2, 3));
    REQUIRE(cv::imwrite(dir / "a.webp", bgr));
    std::vector<Bytes> samples = {encode_jpeg(noise_rgb(16, 16, 2), 16, 16, TJPF_RGB, TJSAMP_444),
                                  make_png(5, 7, 8, 0, Bytes(7 * 6, 0)),
                                  read_bytes(dir / "a.webp")};
    ImageHeader h;
    std::string why;
    for (const Bytes& full : samples) {
        // Every prefix, copied to an exactly-sized buffer so a sanitizer sees any overread.
        for (size_t n = 0; n < full.size(); ++n) {
            std::vector<uint8_t> prefix(full.begin(),
                                        full.begin() + static_cast<std::ptrdiff_t>(n));
            const bool ok = probe_image_header(prefix.empty() ? nullptr : prefix.data(), n, h, why);
            if (!ok) CHECK_FALSE(why.empty());
        }
        // And random corruptions of the whole.
        Rng rng(99, full.size());
        for (int trial = 0; trial < 2000; ++trial) {
            Bytes bad = full;
            const int flips = static_cast<int>(rng.uniform_int(1, 8));
            for (int k = 0; k < flips; ++k)
                bad[rng.uniform_int(0, static_cast<int64_t>(bad.size()) - 1)] =
                    static_cast<uint8_t>(rng.uniform_int(0, 255));
            bad.resize(rng.uniform_int(0, static_cast<int64_t>(bad.size())));
            probe_image_header(bad.data(), bad.size(), h, why);
        }
    }
}

TEST_CASE("broken card files are refused with a reason", "[catalog][images]") {
    ScratchDir dir;

    SECTION("truncated JPEG") {
        const Bytes jpeg = encode_jpeg(noise_rgb(128, 96, 3), 128, 96, TJPF_RGB, TJSAMP_420);
        REQUIRE(check(dir / "whole.jpg").find("cannot") != std::string::npos);  // not there yet
        write_bytes(dir / "whole.jpg", jpeg);
        CHECK(check(dir / "whole.jpg") == "");
        write_bytes(dir / "cut.jpg", Bytes(jpeg.begin(), jpeg.begin() + jpeg.size() / 2));
        const std::string why = check(dir / "cut.jpg");
        CHECK_THAT(why, Catch::Contains("truncated"));
        CHECK_THROWS_WITH(load_card_rgba(dir / "cut.jpg", 100000000),
                          Catch::Contains("cut.jpg") && Catch::Contains("truncated"));
    }
    SECTION("zero bytes") {
        write_bytes(dir / "empty.png", {});
        CHECK_THAT(check(dir / "empty.png"), Catch::Contains("empty"));
    }
    SECTION("text named .jpg") {
        const std::string text = "name,rank\nnot an image\n";
        write_bytes(dir / "notes.jpg", Bytes(text.begin(), text.end()));
        CHECK(check(dir / "notes.jpg") == "not a JPEG, PNG or WebP file");
    }
    SECTION("1x1 PNG") {
        cv::Mat one(1, 1, CV_8UC3, cv::Scalar(1, 2, 3));
        REQUIRE(cv::imwrite(dir / "dot.png", one));
        CHECK_THAT(check(dir / "dot.png"), Catch::Contains("smaller than 2x2"));
    }
    SECTION("PNG declaring 100000x100000 is refused before decoding") {
        // The pixel data is absent: only the header is there, so a decoder would fail otherwise.
        write_bytes(dir / "huge.png", make_png(100000, 100000, 8, 2, {0, 0, 0, 0}));
        CHECK_THAT(check(dir / "huge.png"),
                   Catch::Contains("100000x100000") && Catch::Contains("max_pixels"));
        CHECK_THROWS_AS(load_card_rgba(dir / "huge.png", 100000000), InputError);
    }
    SECTION("JPEG declaring 60000x50000 is refused before decoding") {
        Bytes jpeg = encode_jpeg(noise_rgb(16, 16, 4), 16, 16, TJPF_RGB, TJSAMP_444);
        bool patched = false;
        for (size_t i = 2; i + 9 < jpeg.size(); ++i) {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
                jpeg[i + 5] = 50000 >> 8, jpeg[i + 6] = 50000 & 0xFF;  // height
                jpeg[i + 7] = 60000 >> 8, jpeg[i + 8] = 60000 & 0xFF;  // width
                patched = true;
                break;
            }
        }
        REQUIRE(patched);
        write_bytes(dir / "huge.jpg", jpeg);
        CHECK_THAT(check(dir / "huge.jpg"), Catch::Contains("60000x50000"));
        // A smaller limit refuses even a modest image.
        write_bytes(dir / "small.jpg",
                    encode_jpeg(noise_rgb(16, 16, 4), 16, 16, TJPF_RGB, TJSAMP_444));
        CHECK(check(dir / "small.jpg", 256) == "");
        CHECK_THAT(check(dir / "small.jpg", 255), Catch::Contains("max_pixels 255"));
    }
    SECTION("a directory named like an image") {
        fs::create_directory(dir / "x.png");
        CHECK_THAT(check(dir / "x.png"), Catch::Contains("not a regular file"));
    }
    SECTION("unreadable file") {
        cv::Mat img(4, 4, CV_8UC3, cv::Scalar(1, 2, 3));
        REQUIRE(cv::imwrite(dir / "locked.png", img));
        fs::permissions(dir / "locked.png", fs::perms::none);
        if (::geteuid() == 0) {
            WARN("running as root: a chmod 000 file stays readable, so this case is not checked");
        } else {
            CHECK_THAT(check(dir / "locked.png"), Catch::Contains("Permission denied"));
        }
    }
    SECTION("corrupt PNG data") {
        cv::Mat img(32, 32, CV_8UC3, cv::Scalar(100, 50, 25));
        REQUIRE(cv::imwrite(dir / "ok.png", img));
        Bytes png = read_bytes(dir / "ok.png");
        write_bytes(dir / "cut.png", Bytes(png.begin(), png.begin() + png.size() / 2));
        CHECK_FALSE(check(dir / "cut.png").empty());
    }
}

TEST_CASE("every pixel layout decodes to RGBA in R, G, B, A order", "[catalog][images]") {
    ScratchDir dir;
    const int64_t limit = 100000000;

    SECTION("RGB JPEG") {
        Bytes rgb;
        for (int i = 0; i < 16 * 16; ++i) rgb.insert(rgb.end(), {200, 100, 30});
        write_bytes(dir / "rgb.jpg", encode_jpeg(rgb, 16, 16, TJPF_RGB, TJSAMP_444, 100));
        int w = 0, h = 0;
        REQUIRE(check_card_file(dir / "rgb.jpg", limit, w, h) == "");
        CHECK(w == 16);
        CHECK(h == 16);
        const cv::Mat m = load_card_rgba(dir / "rgb.jpg", limit);
        REQUIRE(m.type() == CV_8UC4);
        const cv::Vec4b p = px(m, 8, 8);
        CHECK(std::abs(p[0] - 200) <= 3);
        CHECK(std::abs(p[1] - 100) <= 3);
        CHECK(std::abs(p[2] - 30) <= 3);
        CHECK(p[3] == 255);
    }
    SECTION("grayscale JPEG") {
        Bytes grey(24 * 20, 0);
        for (int y = 0; y < 20; ++y)
            for (int x = 0; x < 24; ++x) grey[y * 24 + x] = x < 12 ? 40 : 210;
        write_bytes(dir / "grey.jpg", encode_jpeg(grey, 24, 20, TJPF_GRAY, TJSAMP_GRAY, 100));
        const cv::Mat m = load_card_rgba(dir / "grey.jpg", limit);
        REQUIRE(m.cols == 24);
        REQUIRE(m.rows == 20);
        for (int x : {3, 20}) {
            const cv::Vec4b p = px(m, x, 10);
            const int expected = x < 12 ? 40 : 210;
            CHECK(p[0] == p[1]);
            CHECK(p[1] == p[2]);
            CHECK(std::abs(p[0] - expected) <= 3);
            CHECK(p[3] == 255);
        }
    }
    SECTION("CMYK JPEG") {
        // RGB (200, 30, 30) in libjpeg-turbo's (Adobe, inverted) CMYK: r = c * k / 255.
        Bytes cmyk;
        for (int i = 0; i < 16 * 16; ++i) cmyk.insert(cmyk.end(), {255, 38, 38, 200});
        write_bytes(dir / "cmyk.jpg", encode_jpeg(cmyk, 16, 16, TJPF_CMYK, TJSAMP_444, 100));
        REQUIRE(check(dir / "cmyk.jpg") == "");
        const cv::Mat m = load_card_rgba(dir / "cmyk.jpg", limit);
        REQUIRE(m.type() == CV_8UC4);
        const cv::Vec4b p = px(m, 5, 5);
        CHECK(std::abs(p[0] - 200) <= 4);
        CHECK(std::abs(p[1] - 30) <= 4);
        CHECK(std::abs(p[2] - 30) <= 4);
        CHECK(p[3] == 255);
    }
    SECTION("16-bit PNG keeps the high byte") {
        cv::Mat bgr16(6, 5, CV_16UC3, cv::Scalar(0x10FF, 0x8000, 0xF0FF));  // B, G, R
        REQUIRE(cv::imwrite(dir / "deep.png", bgr16));
        const cv::Mat m = load_card_rgba(dir / "deep.png", limit);
        REQUIRE(m.type() == CV_8UC4);
        CHECK(px(m, 2, 3) == cv::Vec4b(0xF0, 0x80, 0x10, 255));
    }
    SECTION("RGBA PNG keeps its alpha") {
        cv::Mat bgra(4, 4, CV_8UC4, cv::Scalar(11, 22, 33, 44));
        REQUIRE(cv::imwrite(dir / "alpha.png", bgra));
        CHECK(px(load_card_rgba(dir / "alpha.png", limit), 1, 1) == cv::Vec4b(33, 22, 11, 44));
    }
    SECTION("grey PNG") {
        cv::Mat grey(4, 4, CV_8UC1, cv::Scalar(77));
        REQUIRE(cv::imwrite(dir / "grey.png", grey));
        CHECK(px(load_card_rgba(dir / "grey.png", limit), 0, 0) == cv::Vec4b(77, 77, 77, 255));
    }
    SECTION("palette PNG with transparency") {
        // 4x2, 8-bit indices: 0 red opaque, 1 green transparent, 2 blue half.
        const Bytes rows = {0, 0, 1, 2, 0, /* row 2 */ 0, 2, 2, 1, 1};
        write_bytes(dir / "palette.png",
                    make_png(4, 2, 8, 3, rows, {255, 0, 0, 0, 255, 0, 0, 0, 255}, {255, 0, 128}));
        REQUIRE(check(dir / "palette.png") == "");
        const cv::Mat m = load_card_rgba(dir / "palette.png", limit);
        REQUIRE(m.cols == 4);
        REQUIRE(m.rows == 2);
        CHECK(px(m, 0, 0) == cv::Vec4b(255, 0, 0, 255));
        CHECK(px(m, 1, 0) == cv::Vec4b(0, 255, 0, 0));
        CHECK(px(m, 2, 0) == cv::Vec4b(0, 0, 255, 128));
        CHECK(px(m, 3, 1) == cv::Vec4b(0, 255, 0, 0));
    }
    SECTION("lossless WebP with alpha") {
        cv::Mat bgra(8, 10, CV_8UC4);
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 10; ++x)
                bgra.at<cv::Vec4b>(y, x) =
                    cv::Vec4b(uint8_t(x * 20), uint8_t(y * 30), 7, uint8_t(100 + x));
        REQUIRE(cv::imwrite(dir / "card.webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 101}));
        int w = 0, h = 0;
        REQUIRE(check_card_file(dir / "card.webp", limit, w, h) == "");
        CHECK(w == 10);
        CHECK(h == 8);
        const cv::Mat m = load_card_rgba(dir / "card.webp", limit);
        CHECK(px(m, 3, 2) == cv::Vec4b(7, 60, 60, 103));
    }
    SECTION("lossy WebP without alpha") {
        cv::Mat bgr(16, 16, CV_8UC3, cv::Scalar(30, 60, 220));
        REQUIRE(cv::imwrite(dir / "card.webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 95}));
        const cv::Vec4b p = px(load_card_rgba(dir / "card.webp", limit), 8, 8);
        CHECK(std::abs(p[0] - 220) <= 6);
        CHECK(std::abs(p[2] - 30) <= 6);
        CHECK(p[3] == 255);
    }
}

TEST_CASE("Catalog::load skips bad cards with warnings, or fails under strict", "[catalog][load]") {
    ScratchDir dir;
    const std::string cards = dir / "cards";
    cv::Mat good(20, 14, CV_8UC3, cv::Scalar(10, 20, 30));
    REQUIRE(fs::create_directories(cards + "/set1/nested"));
    REQUIRE(cv::imwrite(cards + "/set1/alpha.png", good));
    REQUIRE(cv::imwrite(cards + "/set1/nested/Beta.JPG", good));
    REQUIRE(cv::imwrite(cards + "/gamma.webp", good));
    write_bytes(cards + "/zero.jpg", {});
    const std::string text = "just text";
    write_bytes(cards + "/set1/text.jpeg", Bytes(text.begin(), text.end()));
    fs::create_directory(cards + "/folder.png");
    write_bytes(cards + "/readme.txt", Bytes(text.begin(), text.end()));
    fs::create_directory_symlink("..", cards + "/set1/nested/loop");

    CardsConfig config;
    config.dirs = {cards};
    Catalog catalog;
    const std::string warnings = capture_stderr([&] { catalog = Catalog::load(config); });
    INFO(warnings);
    REQUIRE(catalog.size() == 3);
    // Sorted by path, so ids are stable.
    CHECK(catalog.cards()[0].source == cards + "/gamma.webp");
    CHECK(catalog.cards()[1].source == cards + "/set1/alpha.png");
    CHECK(catalog.cards()[2].source == cards + "/set1/nested/Beta.JPG");
    CHECK(catalog.cards()[2].name == "Beta");
    CHECK(catalog.cards()[1].width == 14);
    CHECK(catalog.cards()[1].height == 20);
    CHECK_THAT(warnings, Catch::Contains("skipping card '" + cards + "/zero.jpg'"));
    CHECK_THAT(warnings, Catch::Contains("skipping card '" + cards + "/set1/text.jpeg'"));
    CHECK_THAT(warnings, !Catch::Contains("readme.txt"));
    const cv::Mat rgba = catalog.load_rgba(1);
    CHECK(rgba.at<cv::Vec4b>(5, 5) == cv::Vec4b(30, 20, 10, 255));
    CHECK(catalog.report_lines()[0] == "[catalog] 3 cards from card directory '" + cards + "'");

    config.strict = true;
    CHECK_THROWS_WITH(Catalog::load(config),
                      Catch::Contains("card '") && Catch::Contains("cards/"));
    try {
        Catalog::load(config);
    } catch (const InputError& e) {
        const std::string what = e.what();
        CHECK((what.find("zero.jpg") != std::string::npos ||
               what.find("text.jpeg") != std::string::npos));
    }
}

TEST_CASE("card directories that cannot give cards are errors naming them", "[catalog][load]") {
    ScratchDir dir;
    CardsConfig config;
    config.dirs = {dir / "missing"};
    CHECK_THROWS_WITH(Catalog::load(config),
                      "card directory '" + (dir / "missing") + "' does not exist");

    const std::string bad = dir / "bad";
    fs::create_directory(bad);
    write_bytes(bad + "/a.png", {});
    write_bytes(bad + "/b.jpg", {'x', 'y'});
    config.dirs = {bad};
    std::string warnings;
    CHECK_THROWS_WITH(warnings = capture_stderr([&] { Catalog::load(config); }),
                      Catch::Contains("'" + bad + "'") && Catch::Contains("no usable"));

    const std::string empty = dir / "empty";
    fs::create_directory(empty);
    config.dirs = {empty};
    CHECK_THROWS_AS(Catalog::load(config), InputError);

    write_bytes(dir / "file.png", {1, 2, 3});
    config.dirs = {dir / "file.png"};
    CHECK_THROWS_WITH(Catalog::load(config), Catch::Contains("is not a directory"));
}

TEST_CASE("the built-in deck: distinct, deterministic cards of their own shape",
          "[catalog][builtin]") {
    const cv::Mat a = render_builtin_card(7);
    REQUIRE(a.type() == CV_8UC4);
    REQUIRE(a.cols == builtin_card_shape(7).width);
    REQUIRE(a.rows == kBuiltinCardHeight);
    CHECK(cv::norm(a, render_builtin_card(7), cv::NORM_INF) == 0);
    CHECK(builtin_card_name(7) == builtin_card_name(7));
    CHECK(builtin_card_name(7).rfind("Builtin 0007 ", 0) == 0);
    CHECK(px(a, a.cols / 2, a.rows / 2)[3] == 255);

    // Cards differ in size: compared over the region they share.
    std::vector<cv::Mat> deck;
    for (int id = 0; id < 12; ++id) deck.push_back(render_builtin_card(id));
    for (size_t i = 0; i < deck.size(); ++i) {
        for (size_t j = i + 1; j < deck.size(); ++j) {
            const cv::Rect common(0, 0, std::min(deck[i].cols, deck[j].cols),
                                  std::min(deck[i].rows, deck[j].rows));
            cv::Mat diff;
            cv::absdiff(deck[i](common), deck[j](common), diff);
            const double mean = cv::mean(diff)[0] + cv::mean(diff)[1] + cv::mean(diff)[2];
            INFO(i << " vs " << j);
            CHECK(mean > 10.0);  // visibly different, not a pixel or two
            CHECK(builtin_card_name(int(i)) != builtin_card_name(int(j)));
        }
    }

    const auto start = std::chrono::steady_clock::now();
    for (int id = 100; id < 120; ++id) render_builtin_card(id);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() /
        20;
    INFO("render_builtin_card: " << ms << " ms per card");
    CHECK(ms < 50.0);
}

TEST_CASE("the built-in deck as a catalog", "[catalog][builtin]") {
    CardsConfig config;
    config.builtin_count = 30;
    const Catalog plain = Catalog::load(config);
    REQUIRE(plain.size() == 30);
    CHECK(plain.cards()[4].source == "builtin:4");
    CHECK(plain.cards()[4].rank == 0);
    CHECK(cv::norm(plain.load_rgba(4), render_builtin_card(4), cv::NORM_INF) == 0);
    CHECK(plain.report_lines()[0] == "[catalog] 30 cards from the built-in deck");

    config.use_popularity_weights = true;
    config.popularity_max = 10;
    const Catalog ranked = Catalog::load(config);
    REQUIRE(ranked.size() == 10);
    for (size_t i = 0; i < ranked.size(); ++i) CHECK(ranked.cards()[i].rank == int(i) + 1);
    CHECK(ranked.cards()[0].probability > ranked.cards()[9].probability);
    CHECK_THROWS_AS(ranked.load_rgba(10), std::out_of_range);
}
