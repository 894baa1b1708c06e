// The resolved configuration of a run: defaults, then the YAML file (--config), then the
// command-line flags, then --set KEY=VALUE overrides. Validated once; every error names the key.
// The dataset stores it as YAML (/config) and --resume compares it key by key.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cardsynth {

struct Range {
    double lo = 0.0, hi = 0.0;
};

enum class Storage { Raw, Jpeg, Png };
enum class SceneKind { Random, Table };
enum class Overlap { Allow, Avoid };
enum class Device { Auto, Cpu, Cuda };
enum class ThreadMode { Auto, Conservative, Fixed };

struct ThreadSetting {
    ThreadMode mode = ThreadMode::Auto;
    int count = 0;  // for Fixed
};

struct OutputConfig {
    std::string path = "dataset.h5";
    Storage storage = Storage::Jpeg;
    int jpeg_quality = 90;  // 1..100
    bool masks = false;
    bool overwrite = false;
};

struct FrameConfig {
    int width = 1280;  // 16..16384
    int height = 720;
};

struct CardsConfig {
    std::vector<std::string> dirs;  // empty = the built-in procedural deck
    int builtin_count = 200;        // 1..100000
    std::string popularity;         // CSV or JSON; "" = none
    bool use_popularity_weights = false;
    int popularity_min = 1;  // keep ranks >= min
    int popularity_max = 0;  // keep ranks <= max; 0 = no upper bound
    double rank_exponent = 0.5;
    double weight_dampening_power = 0.92;  // > 0
    bool strict = false;             // a skipped card or a card with no popularity row is an error
    int64_t max_pixels = 100000000;  // card images declaring more pixels are refused undecoded
    double corner_radius = 0.045;    // rounded corners, fraction of the card width, 0..0.5
};

struct BackgroundsConfig {
    std::string dir;  // "" = built-in procedural playmats
    // Objects that are not cards (dice, coins, phones, paper...) painted into the built-in
    // playmats, about this many per frame-sized area; 0 = none. 0..20.
    double distractors = 2.0;
    // How many built-in playmats a run makes; 0 = as many as builtin_playmat_count gives for
    // the frame (12 at 1280x720, up to 48 for small frames). 0..1000.
    int builtin_count = 0;
    // The share of built-in playmats made light (their distance from white shrunk to 20-55%),
    // as many real tables and wallpapers are. 0..1.
    double light_share = 0.35;
};

// Global effects over the frame; every strength 0 turns the effect off.
struct EffectsConfig {
    double lighting = 0.25;  // strength of a linear brightness gradient, 0..1
    double shadow = 0.35;    // opacity of the shadow under each card, 0..1
    double glare = 0.15;     // peak strength of a soft specular spot, 0..1
    double noise = 2.0;      // sensor noise sigma in grey levels, 0..50
};

// What the camera does to a whole frame, drawn per image from its own generator stream. Every
// default is off: the frame is stored as rendered.
struct CameraConfig {
    // Each channel's gain uniform in [1 - w, 1 + w], independently (white balance and colour
    // cast); 0..0.5.
    double white_balance = 0.0;
    Range exposure{0.0, 0.0};    // stops: every channel's gain times 2^e; within [-3, 3]
    Range gamma{1.0, 1.0};       // out = in^(1/gamma) on [0, 1]; within [0.25, 4]
    Range saturation{1.0, 1.0};  // 0 grey .. 1 unchanged .. 3; within [0, 3]
    // The frame passes through JPEG at a quality uniform in [lo, hi] (integers 1..100) before
    // it is stored; [0, 0] = off. With output.storage jpeg it is stored at that quality instead.
    Range jpeg_quality{0.0, 0.0};
    // A directional box blur of this many pixels, uniform in [lo, hi], at a uniform angle;
    // [0, 0] = off; within [0, 64]. CPU backend only.
    Range motion_blur{0.0, 0.0};
    // Barrel distortion, k1 of r_u = r_d (1 + k1 r_d^2) with r the distance from the frame's
    // centre over its half diagonal, uniform in [lo, hi]; within [-0.2, 0]; [0, 0] = off. The
    // labels follow it. CPU backend only.
    Range lens_distortion{0.0, 0.0};
};

struct SceneConfig {
    SceneKind kind = SceneKind::Random;
    int min_cards = 8;
    int max_cards = 16;  // also M, the label slots per image; 1..254
    Range card_height{140, 260};
    Range rotation_deg{0, 360};
    double perspective = 0.0;  // 0..1
    Range blur_sigma{0.0, 1.5};
    // Blur tied to scale: a sigma of this fraction of the card's height, uniform in [lo, hi], is
    // added to blur_sigma's; [0, 0] (the default) leaves the blur absolute.
    Range blur_fraction{0.0, 0.0};
    Overlap overlap = Overlap::Allow;
    double min_visible = 0.0;  // 0..1
    // The share of a frame's cards, after its first, drawn from the first card's built-in deck
    // (kBuiltinDeckCards), as the cards on one table come from one deck; 0..1, 0 = off.
    double same_deck = 0.0;
    EffectsConfig effects;
    CameraConfig camera;
    // Objects drawn over the cards (hands, dice, phones, ...), a whole number uniform in
    // [lo, hi] per image, never labelled; within [0, 20]; [0, 0] = none. CPU backend only.
    Range occluders{0.0, 0.0};
};

struct Config {
    uint64_t seed = 1;
    int64_t num_images = 1000;  // >= 1
    ThreadSetting threads;
    Device device = Device::Auto;
    int64_t cache_mb = 512;  // texture cache budget per rank, MiB
    OutputConfig output;
    FrameConfig frame;
    CardsConfig cards;
    BackgroundsConfig backgrounds;
    SceneConfig scene;
};

// Parses YAML text into `base` (keys absent from the text keep their value). `origin` names the
// source in messages ("config.yaml", "--set"). Throws ConfigError naming the key: unknown keys
// (with a did-you-mean suggestion), wrong types, malformed YAML (with line and column).
void apply_yaml(Config& base, const std::string& yaml_text, const std::string& origin);
// Loads a YAML file into `base`; an unreadable file is a ConfigError naming it.
void apply_yaml_file(Config& base, const std::string& path);
// One --set override: KEY is a dotted path (scene.blur_sigma), VALUE is YAML (`[0, 1.5]`).
void apply_set(Config& base, const std::string& key_equals_value);
// Range and consistency checks (min_cards <= max_cards, jpeg_quality 1..100, ...).
void validate(const Config& config);

// The resolved configuration as YAML, every key present, stable order.
std::string to_yaml(const Config& config);
// The first key (dotted path) whose value differs between two configurations for the keys that
// define the dataset's content (num_images included); "" when none. Keys that do not change the
// bytes written (threads, device, cache_mb, output.path, output.overwrite) are ignored.
std::string first_content_difference(const Config& a, const Config& b);

// Names of enum values, as written in YAML.
const char* to_string(Storage s);
const char* to_string(SceneKind k);
const char* to_string(Overlap o);
const char* to_string(Device d);
std::string to_string(const ThreadSetting& t);
// Parses "auto", "conservative" or a positive integer; throws ConfigError naming `key`.
ThreadSetting parse_thread_setting(const std::string& text, const std::string& key);
Storage parse_storage(const std::string& text, const std::string& key);
Device parse_device(const std::string& text, const std::string& key);

}  // namespace cardsynth
