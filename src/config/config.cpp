// The configuration keys live in one table (kFields), in the order to_yaml writes them. Parsing,
// writing, did-you-mean suggestions and the --resume comparison all walk that table, so a key
// added there is known everywhere at once.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>

#include "base/error.h"
#include "base/input_file.h"
#include "base/text.h"

namespace cardsynth {
namespace {

// --- describing and reading YAML values --------------------------------------------------------

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Scalar:
            return "'" + node.Scalar() + "'";
        case YAML::NodeType::Sequence:
            return "a sequence of " + std::to_string(node.size()) +
                   (node.size() == 1 ? " value" : " values");
        case YAML::NodeType::Map:
            return "a map";
        default:
            return "an empty value";
    }
}

// Where a value came from, for messages: "scene.min_cards in config.yaml".
struct Where {
    const std::string& key;
    const std::string& origin;
};

[[noreturn]] void type_error(const Where& at, const std::string& expected, const YAML::Node& got) {
    throw ConfigError(at.key + " in " + at.origin + ": expected " + expected + ", got " +
                      describe(got));
}

// Locale-independent std::from_chars over the whole of `text`, after an optional '+' that
// from_chars itself refuses; std::errc::invalid_argument when nothing or anything more is there.
template <class T>
std::errc from_text(const std::string& text, T& out) {
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin != end && *begin == '+') ++begin;
    if (begin == end) return std::errc::invalid_argument;
    const auto [ptr, ec] = std::from_chars(begin, end, out);
    return ec == std::errc() && ptr != end ? std::errc::invalid_argument : ec;
}

bool parse_double_text(const std::string& text, double& out) {
    return from_text(text, out) == std::errc() && std::isfinite(out);
}

template <class T>
bool parse_integer_text(const std::string& text, T& out) {
    const std::errc ec = from_text(text, out);
    if (ec == std::errc()) return true;
    if (ec == std::errc::result_out_of_range) return false;
    // 1e6 is a fine way to write a million images; 1.5 is not an integer.
    double d = 0;
    if (!parse_double_text(text, d) || d != std::floor(d)) return false;
    if (d < static_cast<double>(std::numeric_limits<T>::min()) ||
        d >= std::ldexp(1.0, std::numeric_limits<T>::digits))
        return false;
    out = static_cast<T>(d);
    return true;
}

template <class T>
T read_integer(const YAML::Node& node, const Where& at) {
    if (!node.IsScalar()) type_error(at, "an integer", node);
    T value{};
    if (!parse_integer_text(node.Scalar(), value)) {
        std::string expected = "an integer";
        if (std::is_unsigned<T>::value) expected = "a non-negative integer";
        int64_t wide = 0;
        double d = 0;
        if (parse_integer_text(node.Scalar(), wide) ||
            (parse_double_text(node.Scalar(), d) && d == std::floor(d)))
            expected += " in " + std::to_string(std::numeric_limits<T>::min()) + ".." +
                        std::to_string(std::numeric_limits<T>::max());
        type_error(at, expected, node);
    }
    return value;
}

double read_number(const YAML::Node& node, const Where& at) {
    double value = 0;
    if (!node.IsScalar() || !parse_double_text(node.Scalar(), value))
        type_error(at, "a number", node);
    return value;
}

bool read_bool(const YAML::Node& node, const Where& at) {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
        type_error(at, "true or false", node);
    return value;
}

std::string read_string(const YAML::Node& node, const Where& at) {
    if (node.IsNull()) return "";
    if (!node.IsScalar()) type_error(at, "a string", node);
    return node.Scalar();
}

std::vector<std::string> read_string_list(const YAML::Node& node, const Where& at) {
    if (node.IsNull()) return {};
    // A single directory needs no brackets.
    if (node.IsScalar()) return {node.Scalar()};
    if (!node.IsSequence()) type_error(at, "a list of strings", node);
    std::vector<std::string> out;
    for (const YAML::Node& item : node) {
        if (!item.IsScalar()) type_error(at, "a list of strings", item);
        out.push_back(item.Scalar());
    }
    return out;
}

Range read_range(const YAML::Node& node, const Where& at) {
    if (!node.IsSequence() || node.size() != 2) type_error(at, "a range [lo, hi]", node);
    Range r;
    double* ends[2] = {&r.lo, &r.hi};
    for (std::size_t i = 0; i < 2; ++i) {
        const YAML::Node item = node[i];
        if (!item.IsScalar() || !parse_double_text(item.Scalar(), *ends[i]))
            type_error(at, "a range of two numbers [lo, hi]", item);
    }
    return r;
}

// --- writing values as YAML text ---------------------------------------------------------------

std::string number_text(double v) {
    // to_chars gives the shortest text that reads back to the same double.
    char buf[64];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string(buf, ptr);
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += format("\\x%02x", c);
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string range_text(const Range& r) {
    return "[" + number_text(r.lo) + ", " + number_text(r.hi) + "]";
}

std::string list_text(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
    return out + "]";
}

// --- enum names --------------------------------------------------------------------------------

template <class E, std::size_t N>
bool enum_from_text(const std::string& text, const std::pair<E, const char*> (&names)[N], E& out) {
    const std::string want = lower(text);
    for (const auto& [value, name] : names) {
        if (want == name) {
            out = value;
            return true;
        }
    }
    return false;
}

template <class E, std::size_t N>
const char* enum_to_text(E value, const std::pair<E, const char*> (&names)[N]) {
    for (const auto& [v, name] : names)
        if (v == value) return name;
    return "?";
}

template <class E, std::size_t N>
std::string enum_choices(const std::pair<E, const char*> (&names)[N]) {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        out += names[i].second;
        out += i + 2 < N ? ", " : (i + 2 == N ? " or " : "");
    }
    return out;
}

const std::pair<Storage, const char*> kStorageNames[] = {
    {Storage::Raw, "raw"}, {Storage::Jpeg, "jpeg"}, {Storage::Png, "png"}};
const std::pair<SceneKind, const char*> kSceneKindNames[] = {{SceneKind::Random, "random"},
                                                             {SceneKind::Table, "table"}};
const std::pair<Overlap, const char*> kOverlapNames[] = {{Overlap::Allow, "allow"},
                                                         {Overlap::Avoid, "avoid"}};
const std::pair<Device, const char*> kDeviceNames[] = {
    {Device::Auto, "auto"}, {Device::Cpu, "cpu"}, {Device::Cuda, "cuda"}};

template <class E, std::size_t N>
E read_enum(const YAML::Node& node, const Where& at, const std::pair<E, const char*> (&names)[N]) {
    E value{};
    if (!node.IsScalar() || !enum_from_text(node.Scalar(), names, value))
        type_error(at, enum_choices(names), node);
    return value;
}

// An enum from text outside the YAML (an option, a stored attribute) that `key` names in errors.
template <class E, std::size_t N>
E parse_enum(const std::string& text, const std::string& key,
             const std::pair<E, const char*> (&names)[N]) {
    E value{};
    if (!enum_from_text(text, names, value))
        throw ConfigError(key + ": expected " + enum_choices(names) + ", got '" + text + "'");
    return value;
}

bool thread_setting_from_text(const std::string& text, ThreadSetting& out) {
    const std::string t = lower(text);
    if (t == "auto") {
        out = ThreadSetting{ThreadMode::Auto, 0};
        return true;
    }
    if (t == "conservative") {
        out = ThreadSetting{ThreadMode::Conservative, 0};
        return true;
    }
    int count = 0;
    const char* end = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(t.data(), end, count);
    if (t.empty() || ec != std::errc() || ptr != end || count < 1) return false;
    out = ThreadSetting{ThreadMode::Fixed, count};
    return true;
}

const char* const kThreadChoices = "auto, conservative or a positive integer";

// --- the table of keys -------------------------------------------------------------------------

struct Field {
    std::string key;
    std::function<void(Config&, const YAML::Node&, const Where&)> read;
    std::function<std::string(const Config&)> write;  // the value as YAML text
    bool content = true;  // false: changes how a run goes, not the bytes it writes
};

// `get` maps a Config to the member; reading a const Config through it writes nothing.
template <class Get>
auto member(Get get, const Config& c) -> decltype(get(const_cast<Config&>(c))) {
    return get(const_cast<Config&>(c));
}

// A key whose value `read` parses from YAML (reporting errors at `at`) and `write` prints back as
// YAML text.
template <class Get, class Read, class Write>
Field field(const char* key, Get get, Read read, Write write) {
    return {key,
            [get, read](Config& c, const YAML::Node& n, const Where& at) { get(c) = read(n, at); },
            [get, write](const Config& c) { return std::string(write(member(get, c))); }};
}

template <class T, class Get>
Field integer(const char* key, Get get) {
    return field(key, get, read_integer<T>, [](T v) { return std::to_string(v); });
}

template <class Get>
Field number(const char* key, Get get) {
    return field(key, get, read_number, number_text);
}

template <class Get>
Field boolean(const char* key, Get get) {
    return field(key, get, read_bool, [](bool v) { return v ? "true" : "false"; });
}

template <class Get>
Field string(const char* key, Get get) {
    return field(key, get, read_string, quoted);
}

template <class Get>
Field string_list(const char* key, Get get) {
    return field(key, get, read_string_list, list_text);
}

template <class Get>
Field range(const char* key, Get get) {
    return field(key, get, read_range, range_text);
}

template <class E, std::size_t N, class Get>
Field enumeration(const char* key, const std::pair<E, const char*> (&names)[N], Get get) {
    return field(
        key, get,
        [&names](const YAML::Node& n, const Where& at) { return read_enum(n, at, names); },
        [&names](E v) { return enum_to_text(v, names); });
}

Field run_only(Field f) {
    f.content = false;
    return f;
}

#define CS_KEY(path)          \
    [](Config & c) -> auto& { \
        return c.path;        \
    }

const std::vector<Field>& fields() {
    static const std::vector<Field> table = {
        integer<uint64_t>("seed", CS_KEY(seed)),
        integer<int64_t>("num_images", CS_KEY(num_images)),
        run_only({"threads",
                  [](Config& c, const YAML::Node& n, const Where& at) {
                      if (!n.IsScalar() || !thread_setting_from_text(n.Scalar(), c.threads))
                          type_error(at, kThreadChoices, n);
                  },
                  [](const Config& c) { return to_string(c.threads); }}),
        run_only(enumeration("device", kDeviceNames, CS_KEY(device))),
        run_only(integer<int64_t>("cache_mb", CS_KEY(cache_mb))),
        run_only(string("output.path", CS_KEY(output.path))),
        enumeration("output.storage", kStorageNames, CS_KEY(output.storage)),
        integer<int>("output.jpeg_quality", CS_KEY(output.jpeg_quality)),
        boolean("output.masks", CS_KEY(output.masks)),
        run_only(boolean("output.overwrite", CS_KEY(output.overwrite))),
        integer<int>("frame.width", CS_KEY(frame.width)),
        integer<int>("frame.height", CS_KEY(frame.height)),
        string_list("cards.dirs", CS_KEY(cards.dirs)),
        integer<int>("cards.builtin_count", CS_KEY(cards.builtin_count)),
        string("cards.popularity", CS_KEY(cards.popularity)),
        boolean("cards.use_popularity_weights", CS_KEY(cards.use_popularity_weights)),
        integer<int>("cards.popularity_min", CS_KEY(cards.popularity_min)),
        integer<int>("cards.popularity_max", CS_KEY(cards.popularity_max)),
        number("cards.rank_exponent", CS_KEY(cards.rank_exponent)),
        number("cards.weight_dampening_power", CS_KEY(cards.weight_dampening_power)),
        boolean("cards.strict", CS_KEY(cards.strict)),
        integer<int64_t>("cards.max_pixels", CS_KEY(cards.max_pixels)),
        number("cards.corner_radius", CS_KEY(cards.corner_radius)),
        string("backgrounds.dir", CS_KEY(backgrounds.dir)),
        number("backgrounds.distractors", CS_KEY(backgrounds.distractors)),
        integer<int>("backgrounds.builtin_count", CS_KEY(backgrounds.builtin_count)),
        number("backgrounds.light_share", CS_KEY(backgrounds.light_share)),
        enumeration("scene.kind", kSceneKindNames, CS_KEY(scene.kind)),
        integer<int>("scene.min_cards", CS_KEY(scene.min_cards)),
        integer<int>("scene.max_cards", CS_KEY(scene.max_cards)),
        range("scene.card_height", CS_KEY(scene.card_height)),
        range("scene.rotation_deg", CS_KEY(scene.rotation_deg)),
        number("scene.perspective", CS_KEY(scene.perspective)),
        range("scene.blur_sigma", CS_KEY(scene.blur_sigma)),
        range("scene.blur_fraction", CS_KEY(scene.blur_fraction)),
        enumeration("scene.overlap", kOverlapNames, CS_KEY(scene.overlap)),
        number("scene.min_visible", CS_KEY(scene.min_visible)),
        number("scene.same_deck", CS_KEY(scene.same_deck)),
        number("scene.effects.lighting", CS_KEY(scene.effects.lighting)),
        number("scene.effects.shadow", CS_KEY(scene.effects.shadow)),
        number("scene.effects.glare", CS_KEY(scene.effects.glare)),
        number("scene.effects.noise", CS_KEY(scene.effects.noise)),
        number("scene.camera.white_balance", CS_KEY(scene.camera.white_balance)),
        range("scene.camera.exposure", CS_KEY(scene.camera.exposure)),
        range("scene.camera.gamma", CS_KEY(scene.camera.gamma)),
        range("scene.camera.saturation", CS_KEY(scene.camera.saturation)),
        range("scene.camera.jpeg_quality", CS_KEY(scene.camera.jpeg_quality)),
        range("scene.camera.motion_blur", CS_KEY(scene.camera.motion_blur)),
        range("scene.camera.lens_distortion", CS_KEY(scene.camera.lens_distortion)),
        range("scene.occluders", CS_KEY(scene.occluders)),
    };
    return table;
}

#undef CS_KEY

const Field* find_field(const std::string& key) {
    for (const Field& f : fields())
        if (f.key == key) return &f;
    return nullptr;
}

// Sections are the proper prefixes of the dotted keys: output, scene, scene.effects, ...
bool is_section(const std::string& key) {
    for (const Field& f : fields())
        if (f.key.size() > key.size() && f.key.compare(0, key.size(), key) == 0 &&
            f.key[key.size()] == '.')
            return true;
    return false;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::string last_part(const std::string& key) {
    const auto dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
}

// The known key closest to a misspelt one, either as a whole dotted path or by its last part
// (a key written in the wrong section); "" when nothing is close enough to be a good guess.
std::string suggestion(const std::string& key) {
    std::vector<std::string> known;
    for (const Field& f : fields()) {
        known.push_back(f.key);
        for (auto dot = f.key.find('.'); dot != std::string::npos; dot = f.key.find('.', dot + 1))
            known.push_back(f.key.substr(0, dot));
    }
    const std::string leaf = last_part(key);
    std::string best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const std::string& candidate : known) {
        const std::size_t d = std::min(edit_distance(lower(key), candidate),
                                       edit_distance(lower(leaf), last_part(candidate)) + 1);
        if (d < best_distance) {
            best_distance = d;
            best = candidate;
        }
    }
    const std::size_t allowed = std::max<std::size_t>(2, leaf.size() / 3);
    return best_distance <= allowed ? best : "";
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& origin) {
    std::string message = "unknown key '" + key + "' in " + origin;
    const std::string guess = suggestion(key);
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    throw ConfigError(message);
}

void apply_value(Config& config, const std::string& key, const YAML::Node& value,
                 const std::string& origin);

void apply_map(Config& config, const YAML::Node& map, const std::string& prefix,
               const std::string& origin) {
    std::set<std::string> seen;
    for (const auto& item : map) {
        const YAML::Node& name = item.first;
        if (!name.IsScalar()) {
            throw ConfigError("a key in " + origin + (prefix.empty() ? "" : " under " + prefix) +
                              " is " + describe(name) + "; keys must be plain names");
        }
        const std::string key = prefix.empty() ? name.Scalar() : prefix + "." + name.Scalar();
        if (!seen.insert(key).second) throw ConfigError("duplicate key '" + key + "' in " + origin);
        apply_value(config, key, item.second, origin);
    }
}

void apply_value(Config& config, const std::string& key, const YAML::Node& value,
                 const std::string& origin) {
    if (const Field* field = find_field(key)) {
        field->read(config, value, Where{key, origin});
    } else if (is_section(key)) {
        if (value.IsNull()) return;
        if (!value.IsMap()) type_error(Where{key, origin}, "a map of keys", value);
        apply_map(config, value, key, origin);
    } else {
        unknown_key(key, origin);
    }
}

// `place` names the text in messages; `at_mark` joins it to a position: a file reads best as
// "config.yaml:3:7", a --set argument as "--set 'k=v' at 1:4".
YAML::Node load(const std::string& text, const std::string& place, bool file_like) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        std::string where = place;
        if (!e.mark.is_null()) {
            const std::string position =
                std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
            where += file_like ? ":" + position : " at " + position;
        }
        throw ConfigError(where + ": malformed YAML: " + e.msg);
    }
}

// The smallest card height drawn, in pixels.
constexpr double kMinCardHeightPx = 8.0;

// --- validation helpers ------------------------------------------------------------------------

[[noreturn]] void invalid(const std::string& key, const std::string& rule,
                          const std::string& value) {
    throw ConfigError(key + " " + rule + ", got " + value);
}

template <class T>
void check_between(const std::string& key, T value, T lo, T hi) {
    // Written so that NaN fails too.
    if (!(value >= lo && value <= hi)) {
        if constexpr (std::is_floating_point<T>::value)
            invalid(key, "must be in " + number_text(lo) + ".." + number_text(hi),
                    number_text(value));
        else
            invalid(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi),
                    std::to_string(value));
    }
}

template <class T>
void check_at_least(const std::string& key, T value, T lo) {
    if (!(value >= lo)) {
        if constexpr (std::is_floating_point<T>::value)
            invalid(key, "must be >= " + number_text(lo), number_text(value));
        else
            invalid(key, "must be >= " + std::to_string(lo), std::to_string(value));
    }
}

void check_ordered(const std::string& key, const Range& r) {
    if (!std::isfinite(r.lo) || !std::isfinite(r.hi))
        invalid(key, "must be a range of finite numbers", range_text(r));
    if (!(r.lo <= r.hi)) invalid(key, "must have lo <= hi", range_text(r));
}

void check_range_within(const std::string& key, const Range& r, double lo, double hi) {
    check_ordered(key, r);
    if (r.lo < lo || r.hi > hi)
        invalid(key, "must lie within [" + number_text(lo) + ", " + number_text(hi) + "]",
                range_text(r));
}

void validate_camera(const CameraConfig& cam) {
    check_between("scene.camera.white_balance", cam.white_balance, 0.0, 0.5);
    check_range_within("scene.camera.exposure", cam.exposure, -3.0, 3.0);
    check_range_within("scene.camera.gamma", cam.gamma, 0.25, 4.0);
    check_range_within("scene.camera.saturation", cam.saturation, 0.0, 3.0);
    const Range& q = cam.jpeg_quality;
    check_ordered("scene.camera.jpeg_quality", q);
    const bool off = q.lo == 0.0 && q.hi == 0.0;
    if (!off &&
        !(q.lo >= 1.0 && q.hi <= 100.0 && q.lo == std::floor(q.lo) && q.hi == std::floor(q.hi)))
        invalid("scene.camera.jpeg_quality", "must be [0, 0] (off) or integers within [1, 100]",
                range_text(q));
    check_range_within("scene.camera.motion_blur", cam.motion_blur, 0.0, 64.0);
    check_range_within("scene.camera.lens_distortion", cam.lens_distortion, -0.2, 0.0);
}

}  // namespace

// --- public interface --------------------------------------------------------------------------

void apply_yaml(Config& base, const std::string& yaml_text, const std::string& origin) {
    const YAML::Node doc = load(yaml_text, origin, true);
    if (doc.IsNull()) return;
    if (!doc.IsMap())
        throw ConfigError(origin + ": expected a map of keys at the top level, got " +
                          describe(doc));
    // All or nothing: a bad key leaves `base` as it was.
    Config updated = base;
    apply_map(updated, doc, "", origin);
    base = updated;
}

void apply_yaml_file(Config& base, const std::string& path) {
    std::string text;
    try {
        text = read_input_file(path, kConfigFileLimit, "config file");
    } catch (const InputError& e) {
        throw ConfigError(e.what());  // a configuration problem, whatever the cause
    }
    apply_yaml(base, text, path);
}

void apply_set(Config& base, const std::string& key_equals_value) {
    const auto eq = key_equals_value.find('=');
    const std::string key =
        eq == std::string::npos ? "" : trim(key_equals_value.substr(0, eq), " \t");
    if (eq == std::string::npos || key.empty())
        throw ConfigError("--set '" + key_equals_value + "': expected KEY=VALUE");
    const std::string origin = "--set";
    const YAML::Node value =
        load(key_equals_value.substr(eq + 1), "--set '" + key_equals_value + "'", false);
    Config updated = base;
    apply_value(updated, key, value, origin);
    base = updated;
}

void validate(const Config& c) {
    check_at_least<int64_t>("num_images", c.num_images, 1);
    if (c.threads.mode == ThreadMode::Fixed && c.threads.count < 1)
        invalid("threads", "must be auto, conservative or a positive integer",
                std::to_string(c.threads.count));
    check_at_least<int64_t>("cache_mb", c.cache_mb, 16);
    if (c.output.path.empty()) invalid("output.path", "must not be empty", "\"\"");
    check_between("output.jpeg_quality", c.output.jpeg_quality, 1, 100);
    check_between("frame.width", c.frame.width, 16, 16384);
    check_between("frame.height", c.frame.height, 16, 16384);

    check_between("cards.builtin_count", c.cards.builtin_count, 1, 100000);
    check_at_least("cards.popularity_min", c.cards.popularity_min, 1);
    if (c.cards.popularity_max != 0 && c.cards.popularity_max < c.cards.popularity_min)
        invalid("cards.popularity_max",
                "must be 0 (no bound) or >= cards.popularity_min (" +
                    std::to_string(c.cards.popularity_min) + ")",
                std::to_string(c.cards.popularity_max));
    if (!(c.cards.rank_exponent >= 0.0 && std::isfinite(c.cards.rank_exponent)))
        invalid("cards.rank_exponent", "must be a finite number >= 0",
                number_text(c.cards.rank_exponent));
    if (!(c.cards.weight_dampening_power > 0.0 && std::isfinite(c.cards.weight_dampening_power)))
        invalid("cards.weight_dampening_power", "must be a finite number > 0",
                number_text(c.cards.weight_dampening_power));
    check_at_least<int64_t>("cards.max_pixels", c.cards.max_pixels, 4);
    check_between("cards.corner_radius", c.cards.corner_radius, 0.0, 0.5);

    const SceneConfig& s = c.scene;
    check_at_least("scene.min_cards", s.min_cards, 0);
    check_between("scene.max_cards", s.max_cards, 1, 254);
    if (s.min_cards > s.max_cards)
        invalid("scene.min_cards",
                "must be <= scene.max_cards (" + std::to_string(s.max_cards) + ")",
                std::to_string(s.min_cards));
    check_ordered("scene.card_height", s.card_height);
    // A card of a few pixels shows nothing to learn, and per-card work measured against the
    // card's size (blur in texels, tilt) grows without bound as the size nears zero.
    if (!(s.card_height.lo >= kMinCardHeightPx))
        invalid("scene.card_height", "must have lo >= " + number_text(kMinCardHeightPx) + " pixels",
                range_text(s.card_height));
    if (s.card_height.hi > 4.0 * c.frame.height)
        invalid("scene.card_height",
                "must have hi <= 4 x frame.height (" + std::to_string(4 * c.frame.height) + ")",
                range_text(s.card_height));
    check_ordered("scene.rotation_deg", s.rotation_deg);
    check_ordered("scene.blur_sigma", s.blur_sigma);
    if (s.blur_sigma.lo < 0.0 || s.blur_sigma.hi > 50.0)
        invalid("scene.blur_sigma", "must lie within [0, 50]", range_text(s.blur_sigma));
    check_between("backgrounds.distractors", c.backgrounds.distractors, 0.0, 20.0);
    check_between("backgrounds.builtin_count", c.backgrounds.builtin_count, 0, 1000);
    check_between("backgrounds.light_share", c.backgrounds.light_share, 0.0, 1.0);
    check_ordered("scene.blur_fraction", s.blur_fraction);
    if (s.blur_fraction.lo < 0.0 || s.blur_fraction.hi > 0.1)
        invalid("scene.blur_fraction", "must lie within [0, 0.1]", range_text(s.blur_fraction));
    check_between("scene.perspective", s.perspective, 0.0, 1.0);
    check_between("scene.min_visible", s.min_visible, 0.0, 1.0);
    check_between("scene.same_deck", s.same_deck, 0.0, 1.0);
    check_between("scene.effects.lighting", s.effects.lighting, 0.0, 1.0);
    check_between("scene.effects.shadow", s.effects.shadow, 0.0, 1.0);
    check_between("scene.effects.glare", s.effects.glare, 0.0, 1.0);
    check_between("scene.effects.noise", s.effects.noise, 0.0, 50.0);
    validate_camera(s.camera);
    check_range_within("scene.occluders", s.occluders, 0.0, 20.0);
    if (s.occluders.lo != std::floor(s.occluders.lo) ||
        s.occluders.hi != std::floor(s.occluders.hi))
        invalid("scene.occluders", "must be whole numbers", range_text(s.occluders));
}

std::string to_yaml(const Config& config) {
    std::string out;
    std::vector<std::string> open;  // the sections the previous key was in
    for (const Field& f : fields()) {
        std::vector<std::string> parts;
        std::stringstream split(f.key);
        for (std::string part; std::getline(split, part, '.');) parts.push_back(part);
        std::size_t common = 0;
        while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common])
            ++common;
        open.resize(common);
        for (std::size_t i = common; i + 1 < parts.size(); ++i) {
            out += std::string(2 * i, ' ') + parts[i] + ":\n";
            open.push_back(parts[i]);
        }
        out +=
            std::string(2 * (parts.size() - 1), ' ') + parts.back() + ": " + f.write(config) + "\n";
    }
    return out;
}

std::string first_content_difference(const Config& a, const Config& b) {
    // The written text is exact (doubles round-trip), so comparing it compares the values.
    for (const Field& f : fields())
        if (f.content && f.write(a) != f.write(b)) return f.key;
    return "";
}

const char* to_string(Storage s) {
    return enum_to_text(s, kStorageNames);
}
const char* to_string(SceneKind k) {
    return enum_to_text(k, kSceneKindNames);
}
const char* to_string(Overlap o) {
    return enum_to_text(o, kOverlapNames);
}
const char* to_string(Device d) {
    return enum_to_text(d, kDeviceNames);
}

std::string to_string(const ThreadSetting& t) {
    switch (t.mode) {
        case ThreadMode::Conservative:
            return "conservative";
        case ThreadMode::Fixed:
            return std::to_string(t.count);
        default:
            return "auto";
    }
}

ThreadSetting parse_thread_setting(const std::string& text, const std::string& key) {
    ThreadSetting t;
    if (!thread_setting_from_text(text, t))
        throw ConfigError(key + ": expected " + kThreadChoices + ", got '" + text + "'");
    return t;
}

Storage parse_storage(const std::string& text, const std::string& key) {
    return parse_enum(text, key, kStorageNames);
}

Device parse_device(const std::string& text, const std::string& key) {
    return parse_enum(text, key, kDeviceNames);
}

}  // namespace cardsynth
