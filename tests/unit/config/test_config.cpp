// The configuration: defaults, YAML and --set overrides, validation messages that name the key,
// the exact YAML round trip that --resume relies on, and the content comparison.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "base/error.h"
#include "config/config.h"

using namespace cardsynth;

namespace {

// Every field, compared exactly; Config has no operator== of its own.
void require_equal(const Config& a, const Config& b) {
    CHECK(a.seed == b.seed);
    CHECK(a.num_images == b.num_images);
    CHECK(a.threads.mode == b.threads.mode);
    CHECK(a.threads.count == b.threads.count);
    CHECK(a.device == b.device);
    CHECK(a.cache_mb == b.cache_mb);
    CHECK(a.output.path == b.output.path);
    CHECK(a.output.storage == b.output.storage);
    CHECK(a.output.jpeg_quality == b.output.jpeg_quality);
    CHECK(a.output.masks == b.output.masks);
    CHECK(a.output.overwrite == b.output.overwrite);
    CHECK(a.frame.width == b.frame.width);
    CHECK(a.frame.height == b.frame.height);
    CHECK(a.cards.dirs == b.cards.dirs);
    CHECK(a.cards.builtin_count == b.cards.builtin_count);
    CHECK(a.backgrounds.distractors == b.backgrounds.distractors);
    CHECK(a.backgrounds.builtin_count == b.backgrounds.builtin_count);
    CHECK(a.backgrounds.light_share == b.backgrounds.light_share);
    CHECK(a.cards.popularity == b.cards.popularity);
    CHECK(a.cards.use_popularity_weights == b.cards.use_popularity_weights);
    CHECK(a.cards.popularity_min == b.cards.popularity_min);
    CHECK(a.cards.popularity_max == b.cards.popularity_max);
    CHECK(a.cards.rank_exponent == b.cards.rank_exponent);
    CHECK(a.cards.weight_dampening_power == b.cards.weight_dampening_power);
    CHECK(a.cards.strict == b.cards.strict);
    CHECK(a.cards.max_pixels == b.cards.max_pixels);
    CHECK(a.cards.corner_radius == b.cards.corner_radius);
    CHECK(a.backgrounds.dir == b.backgrounds.dir);
    CHECK(a.scene.kind == b.scene.kind);
    CHECK(a.scene.min_cards == b.scene.min_cards);
    CHECK(a.scene.max_cards == b.scene.max_cards);
    CHECK(a.scene.card_height.lo == b.scene.card_height.lo);
    CHECK(a.scene.card_height.hi == b.scene.card_height.hi);
    CHECK(a.scene.rotation_deg.lo == b.scene.rotation_deg.lo);
    CHECK(a.scene.rotation_deg.hi == b.scene.rotation_deg.hi);
    CHECK(a.scene.perspective == b.scene.perspective);
    CHECK(a.scene.blur_sigma.lo == b.scene.blur_sigma.lo);
    CHECK(a.scene.blur_sigma.hi == b.scene.blur_sigma.hi);
    CHECK(a.scene.overlap == b.scene.overlap);
    CHECK(a.scene.min_visible == b.scene.min_visible);
    CHECK(a.scene.same_deck == b.scene.same_deck);
    CHECK(a.scene.effects.lighting == b.scene.effects.lighting);
    CHECK(a.scene.effects.shadow == b.scene.effects.shadow);
    CHECK(a.scene.effects.glare == b.scene.effects.glare);
    CHECK(a.scene.effects.noise == b.scene.effects.noise);
    const CameraConfig &ca = a.scene.camera, &cb = b.scene.camera;
    CHECK(ca.white_balance == cb.white_balance);
    for (const auto& [ra, rb] : {std::pair{ca.exposure, cb.exposure},
                                 {ca.gamma, cb.gamma},
                                 {ca.saturation, cb.saturation},
                                 {ca.jpeg_quality, cb.jpeg_quality},
                                 {ca.motion_blur, cb.motion_blur}}) {
        CHECK(ra.lo == rb.lo);
        CHECK(ra.hi == rb.hi);
    }
}

// A configuration with every key away from its default, strings chosen to need quoting.
Config unusual_config() {
    Config c;
    c.seed = std::numeric_limits<uint64_t>::max();
    c.num_images = 123456789012LL;
    c.threads = ThreadSetting{ThreadMode::Fixed, 7};
    c.device = Device::Cuda;
    c.cache_mb = 4096;
    c.output.path = "out dir/data: \"set\" #1\\x.h5";
    c.output.storage = Storage::Png;
    c.output.jpeg_quality = 55;
    c.output.masks = true;
    c.output.overwrite = true;
    c.frame.width = 333;
    c.frame.height = 17;
    c.cards.dirs = {"cards/a", " leading space", "null", "", "ünï cödé", "tab\there", "- dash"};
    c.cards.builtin_count = 99999;
    c.cards.popularity = "true";
    c.cards.use_popularity_weights = true;
    c.cards.popularity_min = 3;
    c.cards.popularity_max = 4000;
    c.cards.rank_exponent = 1.0 / 3.0;
    c.cards.weight_dampening_power = 0.1 + 0.2;
    c.cards.strict = true;
    c.cards.max_pixels = 5000000000LL;
    c.backgrounds.dir = "~";
    c.backgrounds.distractors = 0.1 + 0.2;
    c.backgrounds.builtin_count = 999;
    c.backgrounds.light_share = std::nextafter(0.35, 1.0);
    c.scene.kind = SceneKind::Table;
    c.scene.min_cards = 0;
    c.scene.max_cards = 254;
    c.scene.card_height = {1e-300, 67.123456789012345};
    c.scene.rotation_deg = {-180.25, 1e20};
    c.scene.perspective = std::nextafter(0.3, 1.0);
    c.scene.blur_sigma = {0.1, 49.999999999999993};
    c.scene.overlap = Overlap::Avoid;
    c.scene.min_visible = 2.0 / 3.0;
    c.scene.same_deck = 1.0 / 7.0;
    c.scene.effects = {0.0, 1.0, 5e-324, 12.75};
    c.scene.camera.white_balance = 0.1 + 0.2;
    c.scene.camera.exposure = {-1.0 / 3.0, 2.5};
    c.scene.camera.gamma = {0.7, 1.0 / 0.7};
    c.scene.camera.saturation = {0.0, 3.0};
    c.scene.camera.jpeg_quality = {7, 93};
    c.scene.camera.motion_blur = {0.25, 64};
    return c;
}

// The ConfigError message from applying `text` (YAML, or a --set argument) and validating;
// "" when the configuration is accepted.
std::string error_of(const std::string& text, bool as_set) {
    try {
        Config c;
        if (as_set)
            apply_set(c, text);
        else
            apply_yaml(c, text, "config.yaml");
        validate(c);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the defaults are valid and match the design") {
    Config c;
    REQUIRE_NOTHROW(validate(c));
    CHECK(c.num_images == 1000);
    CHECK(c.output.storage == Storage::Jpeg);
    CHECK(c.cards.weight_dampening_power == 0.92);
    CHECK(c.scene.max_cards == 16);
}

TEST_CASE("YAML overrides the keys it names and leaves the others") {
    Config c;
    apply_yaml(c,
               "num_images: 50\n"
               "threads: conservative\n"
               "output:\n"
               "  storage: RAW\n"
               "  masks: yes\n"
               "frame: {width: 640}\n"
               "cards:\n"
               "  dirs: [a, b/c]\n"
               "  weight_dampening_power: 0.5\n"
               "scene:\n"
               "  card_height: [10, 20.5]\n"
               "  effects: {noise: 0}\n",
               "config.yaml");
    CHECK(c.num_images == 50);
    CHECK(c.threads.mode == ThreadMode::Conservative);
    CHECK(c.output.storage == Storage::Raw);
    CHECK(c.output.masks);
    CHECK(c.frame.width == 640);
    CHECK(c.frame.height == 720);  // untouched
    CHECK(c.cards.dirs == std::vector<std::string>{"a", "b/c"});
    CHECK(c.cards.weight_dampening_power == 0.5);
    CHECK(c.scene.card_height.lo == 10.0);
    CHECK(c.scene.card_height.hi == 20.5);
    CHECK(c.scene.effects.noise == 0.0);
    CHECK(c.scene.effects.glare == Config{}.scene.effects.glare);
    CHECK(c.output.jpeg_quality == 90);
    REQUIRE_NOTHROW(validate(c));
}

TEST_CASE("empty documents, nulls and convenient spellings") {
    Config c;
    for (const char* text : {"", "~", "# only a comment\n", "scene:\n"}) {
        apply_yaml(c, text, "config.yaml");
        CHECK(first_content_difference(c, Config{}) == "");
    }
    apply_yaml(c, "num_images: 1e6\ncards: {dirs: just/one, popularity: ~}\n", "config.yaml");
    CHECK(c.num_images == 1000000);
    CHECK(c.cards.dirs == std::vector<std::string>{"just/one"});
    CHECK(c.cards.popularity.empty());
}

TEST_CASE("a failed apply leaves the configuration unchanged") {
    Config c;
    CHECK_THROWS_AS(apply_yaml(c, "num_images: 5\nscene: {min_cards: x}\n", "config.yaml"),
                    ConfigError);
    CHECK(c.num_images == 1000);
    CHECK_THROWS_AS(apply_set(c, "scene.effects={noise: 1, glare: bright}"), ConfigError);
    CHECK(c.scene.effects.noise == 2.0);
}

TEST_CASE("--set overrides scalars, ranges, lists and whole sections") {
    Config c;
    apply_set(c, "scene.blur_sigma=[0,1.5]");
    CHECK(c.scene.blur_sigma.lo == 0.0);
    CHECK(c.scene.blur_sigma.hi == 1.5);
    apply_set(c, "num_images=42");
    CHECK(c.num_images == 42);
    apply_set(c, " scene.effects.glare = 0.5");
    CHECK(c.scene.effects.glare == 0.5);
    apply_set(c, "scene.effects={lighting: 0, shadow: 0.125}");
    CHECK(c.scene.effects.lighting == 0.0);
    CHECK(c.scene.effects.shadow == 0.125);
    CHECK(c.scene.effects.glare == 0.5);
    apply_set(c, "scene.kind=table");
    CHECK(c.scene.kind == SceneKind::Table);
    apply_set(c, "threads=12");
    CHECK(c.threads.mode == ThreadMode::Fixed);
    CHECK(c.threads.count == 12);
    apply_set(c, "device=cpu");
    CHECK(c.device == Device::Cpu);
    apply_set(c, "output.path=runs/a=b.h5");
    CHECK(c.output.path == "runs/a=b.h5");
    apply_set(c, "cards.dirs=[x, 'y z']");
    CHECK(c.cards.dirs == std::vector<std::string>{"x", "y z"});
    apply_set(c, "cards.popularity=");
    CHECK(c.cards.popularity.empty());
    apply_set(c, "frame={width: 320, height: 240}");
    CHECK(c.frame.width == 320);
    CHECK(c.frame.height == 240);
    REQUIRE_NOTHROW(validate(c));
}

TEST_CASE("to_yaml writes every key in a stable order") {
    const std::string text = to_yaml(Config{});
    CHECK(text.rfind("seed: 1\n", 0) == 0);
    CHECK(text == to_yaml(Config{}));
    const std::vector<std::string> order = {
        "seed:",         "num_images:",  "threads: auto", "device: auto",
        "cache_mb: 512", "output:",      "storage: jpeg", "frame:",
        "cards:",        "max_pixels:",  "backgrounds:",  "scene:",
        "kind: random",  "card_height:", "effects:",      "noise: 2"};
    std::size_t at = 0;
    for (const std::string& key : order) {
        const std::size_t found = text.find(key, at);
        INFO(key);
        REQUIRE(found != std::string::npos);
        at = found;
    }
    const YAML::Node doc = YAML::Load(text);
    CHECK(doc["scene"]["effects"]["shadow"].as<double>() == 0.35);
    CHECK(doc["scene"]["blur_sigma"][1].as<double>() == 1.5);
    CHECK(doc["cards"]["dirs"].IsSequence());
    CHECK(doc["output"]["path"].as<std::string>() == "dataset.h5");
}

TEST_CASE("to_yaml round-trips exactly") {
    SECTION("defaults") {
        Config back;
        back.num_images = 5;  // must be overwritten by the text
        apply_yaml(back, to_yaml(Config{}), "dataset /config");
        require_equal(back, Config{});
    }
    SECTION("every key away from its default") {
        const Config original = unusual_config();
        Config back;
        apply_yaml(back, to_yaml(original), "dataset /config");
        require_equal(back, original);
        CHECK(to_yaml(back) == to_yaml(original));
        CHECK(first_content_difference(back, original) == "");
    }
    SECTION("the threads modes") {
        for (ThreadSetting t :
             {ThreadSetting{ThreadMode::Auto, 0}, ThreadSetting{ThreadMode::Conservative, 0},
              ThreadSetting{ThreadMode::Fixed, 3}}) {
            Config c;
            c.threads = t;
            Config back;
            back.threads = ThreadSetting{ThreadMode::Fixed, 99};
            apply_yaml(back, to_yaml(c), "x");
            CHECK(back.threads.mode == t.mode);
            CHECK(back.threads.count == t.count);
        }
    }
}

TEST_CASE("first_content_difference names the first key that changes the bytes") {
    const Config base;
    CHECK(first_content_difference(base, base) == "");

    Config c = base;
    c.num_images = 1001;
    CHECK(first_content_difference(base, c) == "num_images");

    c = base;
    c.threads = ThreadSetting{ThreadMode::Fixed, 4};
    c.device = Device::Cpu;
    c.cache_mb = 64;
    c.output.path = "elsewhere.h5";
    c.output.overwrite = true;
    CHECK(first_content_difference(base, c) == "");

    c = base;
    c.scene.kind = SceneKind::Table;
    c.output.storage = Storage::Png;
    CHECK(first_content_difference(base, c) == "output.storage");
    CHECK(first_content_difference(c, base) == "output.storage");

    c = base;
    c.scene.blur_sigma.hi = std::nextafter(1.5, 2.0);
    CHECK(first_content_difference(base, c) == "scene.blur_sigma");

    c = base;
    c.scene.effects.noise = 0;
    CHECK(first_content_difference(base, c) == "scene.effects.noise");

    c = base;
    c.cards.dirs = {"x"};
    CHECK(first_content_difference(base, c) == "cards.dirs");

    c = base;
    c.seed = 2;
    c.num_images = 7;
    CHECK(first_content_difference(base, c) == "seed");
}

TEST_CASE("enum and thread-setting names") {
    CHECK(std::string(to_string(Storage::Raw)) == "raw");
    CHECK(std::string(to_string(Storage::Jpeg)) == "jpeg");
    CHECK(std::string(to_string(Storage::Png)) == "png");
    CHECK(std::string(to_string(SceneKind::Table)) == "table");
    CHECK(std::string(to_string(Overlap::Avoid)) == "avoid");
    CHECK(std::string(to_string(Device::Cuda)) == "cuda");
    CHECK(to_string(ThreadSetting{ThreadMode::Fixed, 6}) == "6");
    CHECK(to_string(ThreadSetting{}) == "auto");

    CHECK(parse_thread_setting("auto", "--threads").mode == ThreadMode::Auto);
    CHECK(parse_thread_setting("conservative", "--threads").mode == ThreadMode::Conservative);
    const ThreadSetting t = parse_thread_setting("24", "--threads");
    CHECK(t.mode == ThreadMode::Fixed);
    CHECK(t.count == 24);
    for (const char* bad : {"0", "-2", "lots", "", "4x", "2.5"}) {
        INFO(bad);
        try {
            parse_thread_setting(bad, "--threads");
            FAIL("accepted");
        } catch (const ConfigError& e) {
            CHECK_THAT(e.what(), Catch::Contains("--threads") &&
                                     Catch::Contains(std::string("'") + bad + "'"));
        }
    }
    CHECK(parse_storage("png", "--storage") == Storage::Png);
    CHECK(parse_device("cuda", "--device") == Device::Cuda);
    CHECK_THROWS_WITH(parse_storage("bmp", "--storage"),
                      Catch::Contains("--storage") && Catch::Contains("bmp"));
    CHECK_THROWS_WITH(parse_device("tpu", "--device"),
                      Catch::Contains("--device") && Catch::Contains("tpu"));
}

TEST_CASE("config files: read, and an unreadable one is named") {
    const std::string path = std::string(CARDSYNTH_BINARY_DIR) + "/test_config_file.yaml";
    {
        std::ofstream out(path);
        out << "num_images: 9\nscene: {max_cards: 3, min_cards: 2}\n";
    }
    Config c;
    apply_yaml_file(c, path);
    CHECK(c.num_images == 9);
    CHECK(c.scene.max_cards == 3);
    {
        std::ofstream out(path);
        out << "scene: {min_cards: many}\n";
    }
    CHECK_THROWS_WITH(apply_yaml_file(c, path),
                      Catch::Contains("scene.min_cards in " + path) && Catch::Contains("many"));
    std::remove(path.c_str());
    CHECK_THROWS_WITH(apply_yaml_file(c, "no/such/x.yaml"),
                      Catch::Equals("cannot read config file 'no/such/x.yaml': No such file or "
                                    "directory"));
}

TEST_CASE("bad configurations fail with a message naming the key and value") {
    struct Case {
        const char* text;
        bool as_set;
        std::vector<std::string> needles;
    };
    const std::vector<Case> cases = {
        // unknown keys, with a suggestion
        {"scene:\n  max_card: 20\n",
         false,
         {"unknown key 'scene.max_card' in config.yaml (did you mean 'scene.max_cards'?)"}},
        {"num_imagse: 5\n", false, {"'num_imagse'", "did you mean 'num_images'"}},
        {"blur_sigma: [0, 1]\n", false, {"'blur_sigma'", "did you mean 'scene.blur_sigma'"}},
        {"scene: {effects: {glar: 0.1}}\n", false, {"did you mean 'scene.effects.glare'"}},
        {"outptu: {path: x.h5}\n", false, {"'outptu'", "did you mean 'output'"}},
        {"scene.max_card=3", true, {"unknown key 'scene.max_card' in --set", "'scene.max_cards'"}},
        // wrong types
        {"scene: {min_cards: abc}\n",
         false,
         {"scene.min_cards in config.yaml: expected an integer, got 'abc'"}},
        {"scene: {blur_sigma: 1.5}\n", false, {"scene.blur_sigma", "'1.5'", "range"}},
        {"scene: {card_height: [1, 2, 3]}\n", false, {"scene.card_height", "3 values"}},
        {"scene: {rotation_deg: [0, left]}\n", false, {"scene.rotation_deg", "'left'"}},
        {"num_images: {a: 1}\n", false, {"num_images", "a map"}},
        {"frame: {width: 12.5}\n", false, {"frame.width", "'12.5'"}},
        {"output: {masks: maybe}\n", false, {"output.masks", "'maybe'"}},
        {"output: {jpeg_quality: high}\n", false, {"output.jpeg_quality", "'high'"}},
        {"scene: 5\n", false, {"scene in config.yaml", "'5'"}},
        {"seed: -1\n", false, {"seed", "'-1'"}},
        {"frame: {width: 99999999999}\n", false, {"frame.width", "99999999999"}},
        {"scene.perspective=steep", true, {"scene.perspective in --set", "'steep'"}},
        {"- 1\n- 2\n", false, {"config.yaml", "top level"}},
        {"seed: 1\nseed: 2\n", false, {"duplicate key 'seed'"}},
        // values out of range
        {"scene: {min_cards: 20, max_cards: 16}\n", false, {"scene.min_cards", "20", "16"}},
        {"scene: {min_cards: -1}\n", false, {"scene.min_cards", "-1"}},
        {"frame: {width: 0}\n", false, {"frame.width", "0"}},
        {"frame: {height: 20000}\n", false, {"frame.height", "20000"}},
        {"output: {jpeg_quality: 101}\n", false, {"output.jpeg_quality", "101"}},
        {"scene: {card_height: [260, 140]}\n", false, {"scene.card_height", "[260, 140]"}},
        {"scene: {card_height: [0, 140]}\n", false, {"scene.card_height", "[0, 140]"}},
        {"scene: {card_height: [100, 3000]}\n", false, {"scene.card_height", "3000", "2880"}},
        {"scene: {rotation_deg: [90, 10]}\n", false, {"scene.rotation_deg", "[90, 10]"}},
        {"cards: {weight_dampening_power: 0}\n", false, {"cards.weight_dampening_power", "0"}},
        {"cards: {weight_dampening_power: -0.5}\n",
         false,
         {"cards.weight_dampening_power", "-0.5"}},
        {"cards: {rank_exponent: -1}\n", false, {"cards.rank_exponent", "-1"}},
        {"cards: {popularity_min: 0}\n", false, {"cards.popularity_min", "0"}},
        {"cards: {popularity_min: 10, popularity_max: 5}\n",
         false,
         {"cards.popularity_max", "5", "10"}},
        {"cards: {builtin_count: 0}\n", false, {"cards.builtin_count", "0"}},
        {"cards: {max_pixels: 2}\n", false, {"cards.max_pixels", "2"}},
        {"cards: {corner_radius: 0.7}\n", false, {"cards.corner_radius", "0.7"}},
        {"scene: {perspective: 2}\n", false, {"scene.perspective", "2"}},
        {"scene: {min_visible: 1.5}\n", false, {"scene.min_visible", "1.5"}},
        {"scene: {same_deck: -0.1}\n", false, {"scene.same_deck", "-0.1"}},
        {"output: {storage: bmp}\n", false, {"output.storage", "'bmp'"}},
        {"device: tpu\n", false, {"device", "'tpu'"}},
        {"threads: 0\n", false, {"threads", "'0'"}},
        {"threads: lots\n", false, {"threads", "'lots'"}},
        {"scene: {max_cards: 300}\n", false, {"scene.max_cards", "300"}},
        {"scene: {blur_sigma: [-1, 1]}\n", false, {"scene.blur_sigma", "[-1, 1]"}},
        {"scene: {blur_sigma: [0, 60]}\n", false, {"scene.blur_sigma", "[0, 60]"}},
        {"scene: {effects: {noise: 60}}\n", false, {"scene.effects.noise", "60"}},
        {"scene: {effects: {glare: 1.5}}\n", false, {"scene.effects.glare", "1.5"}},
        {"scene: {camera: {white_balance: 0.6}}\n", false, {"scene.camera.white_balance", "0.6"}},
        {"scene: {camera: {exposure: [-4, 0]}}\n", false, {"scene.camera.exposure", "[-4, 0]"}},
        {"scene: {camera: {exposure: [1, -1]}}\n", false, {"scene.camera.exposure", "lo <= hi"}},
        {"scene: {camera: {gamma: [0, 1]}}\n", false, {"scene.camera.gamma", "[0, 1]"}},
        {"scene: {camera: {saturation: [1, 4]}}\n", false, {"scene.camera.saturation", "[1, 4]"}},
        {"scene: {camera: {jpeg_quality: [0, 50]}}\n",
         false,
         {"scene.camera.jpeg_quality", "[0, 50]", "[0, 0] (off)"}},
        {"scene: {camera: {jpeg_quality: [50, 101]}}\n",
         false,
         {"scene.camera.jpeg_quality", "[50, 101]"}},
        {"scene.camera.jpeg_quality=[40.5, 60]", true, {"scene.camera.jpeg_quality", "40.5"}},
        {"scene.camera.jpeg_quality=70", true, {"scene.camera.jpeg_quality", "'70'", "range"}},
        {"scene: {camera: {motion_blur: [0, 65]}}\n", false, {"scene.camera.motion_blur", "65"}},
        {"scene: {camera: {motion_blurr: [0, 5]}}\n",
         false,
         {"did you mean 'scene.camera.motion_blur'"}},
        {"cache_mb: 8\n", false, {"cache_mb", "8"}},
        {"num_images: 0\n", false, {"num_images", "0"}},
        {"output: {path: ''}\n", false, {"output.path"}},
        // malformed YAML: origin, then line:column (1-based)
        {"a: b: c\n", false, {"config.yaml:1:5", "malformed YAML"}},
        {"seed: 1\nscene:\n  min_cards: 3\n max_cards: 4\n",
         false,
         {"config.yaml:4:2", "malformed YAML"}},
        {"scene.blur_sigma=[0, 1",
         true,
         {"--set 'scene.blur_sigma=[0, 1' at 1:", "malformed YAML"}},
        // malformed --set arguments
        {"scene.min_cards", true, {"--set 'scene.min_cards'", "KEY=VALUE"}},
        {"=5", true, {"--set '=5'", "KEY=VALUE"}},
    };
    REQUIRE(cases.size() >= 22);
    for (const Case& c : cases) {
        INFO((c.as_set ? "--set " : "yaml: ") << c.text);
        const std::string message = error_of(c.text, c.as_set);
        REQUIRE_FALSE(message.empty());
        CHECK(message.find('\n') == std::string::npos);
        for (const std::string& needle : c.needles) CHECK_THAT(message, Catch::Contains(needle));
    }
}

TEST_CASE("the camera is off by default and its keys are content") {
    const Config base;
    const CameraConfig& cam = base.scene.camera;
    CHECK(cam.white_balance == 0.0);
    CHECK((cam.exposure.lo == 0.0 && cam.exposure.hi == 0.0));
    CHECK((cam.gamma.lo == 1.0 && cam.gamma.hi == 1.0));
    CHECK((cam.saturation.lo == 1.0 && cam.saturation.hi == 1.0));
    CHECK((cam.jpeg_quality.lo == 0.0 && cam.jpeg_quality.hi == 0.0));
    CHECK((cam.motion_blur.lo == 0.0 && cam.motion_blur.hi == 0.0));
    const std::string text = to_yaml(base);
    CHECK_THAT(text, Catch::Contains("  camera:\n    white_balance: 0\n    exposure: [0, 0]\n"
                                     "    gamma: [1, 1]\n    saturation: [1, 1]\n"
                                     "    jpeg_quality: [0, 0]\n    motion_blur: [0, 0]\n"));
    Config c = base;
    apply_set(c, "scene.camera.jpeg_quality=[30, 90]");
    CHECK((c.scene.camera.jpeg_quality.lo == 30 && c.scene.camera.jpeg_quality.hi == 90));
    CHECK(first_content_difference(base, c) == "scene.camera.jpeg_quality");
    apply_yaml(c, "scene: {camera: {gamma: [0.8, 1.2]}}", "config.yaml");
    CHECK(first_content_difference(base, c) == "scene.camera.gamma");
    REQUIRE_NOTHROW(validate(c));
}

TEST_CASE("a key nothing resembles gets no suggestion") {
    const std::string message = error_of("zzzzzzzzzz: 1\n", false);
    CHECK_THAT(message, Catch::Contains("unknown key 'zzzzzzzzzz'"));
    CHECK_THAT(message, !Catch::Contains("did you mean"));
}

TEST_CASE("the edges of the valid ranges are accepted") {
    for (const char* text :
         {"scene: {min_cards: 0, max_cards: 1}", "scene: {max_cards: 254}",
          "frame: {width: 16, height: 16}\nscene: {card_height: [8, 64]}", "frame: {width: 16384}",
          "output: {jpeg_quality: 1}", "scene: {blur_sigma: [50, 50]}",
          "scene: {perspective: 1, min_visible: 1, same_deck: 1}", "cache_mb: 16",
          "cards: {popularity_min: 5, popularity_max: 5}",
          "cards: {rank_exponent: 0, builtin_count: 100000}",
          "scene: {card_height: [8, 2880], kind: table, overlap: avoid}",
          "scene: {effects: {lighting: 1, shadow: 1, glare: 1, noise: 50}}",
          "scene: {camera: {white_balance: 0.5, exposure: [-3, 3], gamma: [0.25, 4]}}",
          "scene: {camera: {saturation: [0, 3], jpeg_quality: [1, 100], motion_blur: [0, 64]}}",
          "scene: {camera: {jpeg_quality: [100, 100], motion_blur: [64, 64]}}"}) {
        INFO(text);
        CHECK(error_of(text, false) == "");
    }
}

TEST_CASE("cards too small to draw are refused naming scene.card_height") {
    CHECK(error_of("scene.card_height=[0.001, 0.001]", true).find("scene.card_height") == 0);
    CHECK(error_of("scene.card_height=[7.9, 100]", true).find("lo >= 8") != std::string::npos);
    CHECK(error_of("scene.card_height=[8, 100]", true).empty());
}

TEST_CASE("config files must be regular files of at most 1 MiB") {
    Config c;
    CHECK_THROWS_WITH(apply_yaml_file(c, "/dev/zero"),
                      Catch::Contains("/dev/zero") && Catch::Contains("not a regular file"));
    const std::string path = "/tmp/cs_config_big_" + std::to_string(::getpid()) + ".yaml";
    {
        std::ofstream out(path);
        out << "# " << std::string((1 << 20) + 10, 'x') << "\n";
    }
    CHECK_THROWS_WITH(apply_yaml_file(c, path), Catch::Contains(path) && Catch::Contains("1 MiB"));
    std::remove(path.c_str());
}
