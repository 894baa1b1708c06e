// Playmat backgrounds: built-in textures and images from a directory, pre-scaled to cover the
// frame.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "base/error.h"
#include "scene/background.h"

using namespace cardsynth;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temporary directory, removed at the end of the test.
class TempDir {
  public:
    explicit TempDir(const std::string& tag) {
        path_ = fs::temp_directory_path() /
                ("cardsynth_background_" + tag + "_" + std::to_string(::getpid()));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

FrameConfig frame_of(int w, int h) {
    FrameConfig frame;
    frame.width = w;
    frame.height = h;
    return frame;
}

double grey_mean(const cv::Mat& rgb) {
    const cv::Scalar m = cv::mean(rgb);
    return (m[0] + m[1] + m[2]) / 3.0;
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    const cv::Scalar m = cv::mean(diff);
    return (m[0] + m[1] + m[2]) / 3.0;
}

void check_levels_cover(const Backgrounds& backgrounds, const FrameConfig& frame) {
    for (size_t b = 0; b < backgrounds.size(); ++b) {
        int previous_w = 0;
        for (int l = 0; l < kBackgroundLevels; ++l) {
            const cv::Mat& level = backgrounds.level(static_cast<int>(b), l);
            INFO("background " << b << " level " << l);
            CHECK(level.type() == CV_8UC3);
            CHECK(level.isContinuous());
            CHECK(level.cols >= frame.width);
            CHECK(level.rows >= frame.height);
            CHECK(level.cols > previous_w);
            previous_w = level.cols;
        }
    }
}

}  // namespace

TEST_CASE("built-in playmats cover the frame at every level", "[background]") {
    const FrameConfig frame = frame_of(320, 200);
    const Backgrounds backgrounds = Backgrounds::load(BackgroundsConfig{}, frame);
    REQUIRE(backgrounds.size() == static_cast<size_t>(builtin_playmat_count(frame)));
    check_levels_cover(backgrounds, frame);
    const cv::Mat& first = backgrounds.level(0, 0);
    CHECK(first.cols == 320);
    CHECK(first.rows == 200);
    CHECK(backgrounds.level(0, 2).cols == 480);
    CHECK(backgrounds.level(0, 2).rows == 300);
    CHECK(backgrounds.name(0) != backgrounds.name(1));
}

TEST_CASE("built-in playmats differ from one another", "[background]") {
    std::vector<cv::Mat> mats;
    for (int id = 0; id < kBuiltinPlaymats + 2; ++id)
        mats.push_back(render_builtin_playmat(id, 240, 160));
    for (size_t a = 0; a < mats.size(); ++a)
        for (size_t b = a + 1; b < mats.size(); ++b) {
            INFO("playmats " << a << " and " << b);
            CHECK(mean_abs_diff(mats[a], mats[b]) > 4.0);
        }
}

TEST_CASE("built-in playmats look like a dim, textured mat", "[background]") {
    for (int id = 0; id < kBuiltinPlaymats; ++id) {
        const cv::Mat mat = render_builtin_playmat(id, 320, 180);
        REQUIRE(mat.type() == CV_8UC3);
        REQUIRE(mat.size() == cv::Size(320, 180));
        cv::Mat grey;
        cv::cvtColor(mat, grey, cv::COLOR_RGB2GRAY);
        cv::Scalar mean, stddev;
        cv::meanStdDev(grey, mean, stddev);
        INFO("playmat " << id << " mean " << mean[0] << " stddev " << stddev[0]);
        CHECK(mean[0] > 20.0);
        CHECK(mean[0] < 160.0);
        CHECK(stddev[0] > 2.0);  // some texture, not a flat colour
    }
}

TEST_CASE("built-in playmats are deterministic", "[background]") {
    for (int id : {0, 3, 5, 11}) {
        const cv::Mat a = render_builtin_playmat(id, 200, 120);
        const cv::Mat b = render_builtin_playmat(id, 200, 120);
        CHECK(cv::norm(a, b, cv::NORM_INF) == 0);
    }
    const Backgrounds first = Backgrounds::load(BackgroundsConfig{}, frame_of(160, 96));
    const Backgrounds second = Backgrounds::load(BackgroundsConfig{}, frame_of(160, 96));
    REQUIRE(first.size() == second.size());
    for (size_t b = 0; b < first.size(); ++b)
        for (int l = 0; l < kBackgroundLevels; ++l)
            CHECK(cv::norm(first.level(b, l), second.level(b, l), cv::NORM_INF) == 0);
}

TEST_CASE("smaller frames get more built-in playmats, as many pixels in all", "[background]") {
    CHECK(builtin_playmat_count(frame_of(1280, 720)) == kBuiltinPlaymats);
    CHECK(builtin_playmat_count(frame_of(3840, 2160)) == kBuiltinPlaymats);
    CHECK(builtin_playmat_count(frame_of(640, 720)) == 2 * kBuiltinPlaymats);
    CHECK(builtin_playmat_count(frame_of(320, 192)) == 4 * kBuiltinPlaymats);
    const Backgrounds small = Backgrounds::load(BackgroundsConfig{}, frame_of(160, 96));
    REQUIRE(small.size() == static_cast<size_t>(4 * kBuiltinPlaymats));
    std::set<std::string> names;
    for (size_t b = 0; b < small.size(); ++b) names.insert(small.name(static_cast<int>(b)));
    CHECK(names.size() == small.size());
    // Later instances of a texture are other mats, not copies.
    CHECK(mean_abs_diff(small.level(0, 0), small.level(kBuiltinPlaymats, 0)) > 4.0);
}

TEST_CASE("distractors are painted into the playmats, deterministically and only when asked",
          "[background]") {
    int changed = 0;
    for (int id = 0; id < kBuiltinPlaymats; ++id) {
        const cv::Mat plain = render_builtin_playmat(id, 320, 192, 0.0);
        const cv::Mat busy = render_builtin_playmat(id, 320, 192, 6.0);
        CHECK(cv::norm(busy, render_builtin_playmat(id, 320, 192, 6.0), cv::NORM_INF) == 0);
        CHECK(cv::norm(plain, render_builtin_playmat(id, 320, 192), cv::NORM_INF) == 0);
        // Objects cover part of the mat and leave the rest as it was.
        cv::Mat diff;
        cv::absdiff(plain, busy, diff);
        cv::cvtColor(diff, diff, cv::COLOR_RGB2GRAY);
        const double share = cv::countNonZero(diff > 12) / static_cast<double>(diff.total());
        INFO("playmat " << id << ": " << share << " of the pixels changed");
        CHECK(share < 0.9);
        changed += share > 0.02;
    }
    CHECK(changed >= kBuiltinPlaymats - 1);
    BackgroundsConfig none;
    none.distractors = 0;
    const Backgrounds a = Backgrounds::load(none, frame_of(160, 96));
    CHECK(cv::norm(a.level(3, 0), render_builtin_playmat(3, 160, 96, 0.0), cv::NORM_INF) == 0);
}

TEST_CASE("light_share makes that share of the playmats light and leaves the others' bytes",
          "[background]") {
    const int n = 4 * kBuiltinPlaymats;
    int light = 0;
    for (int id = 0; id < n; ++id) {
        const cv::Mat dark = render_builtin_playmat(id, 160, 96, 2.0, 0.0);
        const cv::Mat pale = render_builtin_playmat(id, 160, 96, 2.0, 1.0);
        const cv::Mat some = render_builtin_playmat(id, 160, 96, 2.0, 0.4);
        const double before = grey_mean(dark), after = grey_mean(pale);
        INFO("playmat " << id << ": mean " << before << ", made light " << after);
        // Made light, a mat keeps its texture under a brighter tone (the room light still falls
        // off toward its edges).
        CHECK(after > before + 25.0);
        CHECK(after > 100.0);
        CHECK(mean_abs_diff(pale, cv::Mat(pale.size(), pale.type(), cv::mean(pale))) > 1.0);
        const bool is_light = cv::norm(some, pale, cv::NORM_INF) == 0;
        CHECK((is_light || cv::norm(some, dark, cv::NORM_INF) == 0));
        light += is_light;
    }
    // Each mat's own draw decides: about 0.4 of 48.
    CHECK(light >= 12);
    CHECK(light <= 27);
}

TEST_CASE("a small image from a directory is scaled up to cover the frame", "[background]") {
    TempDir dir("small");
    cv::Mat bgr(50, 100, CV_8UC3, cv::Scalar(200, 100, 10));  // blue-ish in BGR
    REQUIRE(cv::imwrite((dir.path() / "mat.png").string(), bgr));
    std::ofstream(dir.path() / "notes.txt") << "not an image, and not named like one\n";

    BackgroundsConfig config;
    config.dir = dir.path().string();
    const FrameConfig frame = frame_of(320, 240);
    const Backgrounds backgrounds = Backgrounds::load(config, frame);
    REQUIRE(backgrounds.size() == 1);
    CHECK(backgrounds.name(0) == "mat.png");
    check_levels_cover(backgrounds, frame);
    // The height limits: 240 / 50 = 4.8, so the width becomes 480.
    CHECK(backgrounds.level(0, 0).cols == 480);
    CHECK(backgrounds.level(0, 0).rows == 240);
    const cv::Vec3b centre = backgrounds.level(0, 1).at<cv::Vec3b>(100, 200);
    CHECK(centre == cv::Vec3b(10, 100, 200));  // stored as RGB
}

TEST_CASE("a large image from a directory is scaled down to cover the frame", "[background]") {
    TempDir dir("large");
    REQUIRE(cv::imwrite((dir.path() / "b.jpg").string(),
                        cv::Mat(600, 1000, CV_8UC3, cv::Scalar(30, 60, 90))));
    REQUIRE(cv::imwrite((dir.path() / "a.PNG").string(),
                        cv::Mat(300, 300, CV_8UC3, cv::Scalar(5, 5, 5))));
    BackgroundsConfig config;
    config.dir = dir.path().string();
    const FrameConfig frame = frame_of(200, 100);
    const Backgrounds backgrounds = Backgrounds::load(config, frame);
    REQUIRE(backgrounds.size() == 2);
    CHECK(backgrounds.name(0) == "a.PNG");  // sorted
    CHECK(backgrounds.name(1) == "b.jpg");
    check_levels_cover(backgrounds, frame);
    CHECK(backgrounds.level(1, 0).cols == 200);
    CHECK(backgrounds.level(1, 0).rows == 120);
    CHECK(backgrounds.level(0, 0).cols == 200);
    CHECK(backgrounds.level(0, 0).rows == 200);
}

TEST_CASE("a missing backgrounds directory is an error naming it", "[background]") {
    BackgroundsConfig config;
    config.dir = "no/such/playmat_dir";
    CHECK_THROWS_WITH(Backgrounds::load(config, frame_of(64, 64)),
                      Catch::Contains("no/such/playmat_dir"));
    CHECK_THROWS_AS(Backgrounds::load(config, frame_of(64, 64)), InputError);
}

TEST_CASE("a directory without images is an error naming it", "[background]") {
    TempDir dir("empty");
    std::ofstream(dir.path() / "readme.txt") << "nothing here\n";
    BackgroundsConfig config;
    config.dir = dir.path().string();
    CHECK_THROWS_AS(Backgrounds::load(config, frame_of(64, 64)), InputError);
    CHECK_THROWS_WITH(Backgrounds::load(config, frame_of(64, 64)), Catch::Contains(config.dir));
}

TEST_CASE("a file named .jpg that is no image is an error naming it", "[background]") {
    TempDir dir("broken");
    REQUIRE(cv::imwrite((dir.path() / "good.png").string(),
                        cv::Mat(40, 40, CV_8UC3, cv::Scalar::all(90))));
    std::ofstream(dir.path() / "broken.jpg") << "this is text, not a JPEG";
    BackgroundsConfig config;
    config.dir = dir.path().string();
    CHECK_THROWS_AS(Backgrounds::load(config, frame_of(64, 64)), InputError);
    CHECK_THROWS_WITH(Backgrounds::load(config, frame_of(64, 64)), Catch::Contains("broken.jpg"));
}

TEST_CASE("backgrounds.builtin_count sets how many built-in playmats a run makes", "[background]") {
    BackgroundsConfig config;
    config.distractors = 0;
    config.builtin_count = 5;
    const Backgrounds few = Backgrounds::load(config, frame_of(160, 96));
    REQUIRE(few.size() == 5);
    config.builtin_count = 3 * kBuiltinPlaymats + 1;
    const Backgrounds many = Backgrounds::load(config, frame_of(160, 96));
    REQUIRE(many.size() == static_cast<size_t>(3 * kBuiltinPlaymats + 1));
    std::set<std::string> names;
    for (size_t b = 0; b < many.size(); ++b) names.insert(many.name(static_cast<int>(b)));
    CHECK(names.size() == many.size());
    // The first ones are the playmats a default run makes, whatever the count.
    config.builtin_count = 0;
    const Backgrounds plain = Backgrounds::load(config, frame_of(160, 96));
    for (size_t b = 0; b < few.size(); ++b)
        CHECK(cv::norm(few.level(b, 0), plain.level(b, 0), cv::NORM_INF) == 0);
}
