#include "export/split.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/error.h"
#include "base/text.h"

namespace cardsynth {

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double split_draw(uint64_t seed, uint64_t i) {
    // 53 bits fill a double's mantissa exactly, so u is the same in every language.
    return static_cast<double>(splitmix64(seed ^ splitmix64(i)) >> 11) * 0x1.0p-53;
}

int split_of(const SplitSpec& spec, uint64_t seed, uint64_t i) {
    const double u = split_draw(seed, i);
    double cumulative = 0;
    const int last = static_cast<int>(spec.size()) - 1;
    for (int k = 0; k < last; ++k) {
        cumulative += spec[k].fraction;
        if (cumulative > u) return k;
    }
    return last;
}

namespace {

SplitPart parse_part(const std::string& item, const std::string& key, const std::string& text) {
    const size_t eq = item.find('=');
    const std::string where = key + " '" + text + "'";
    if (eq == std::string::npos)
        throw ConfigError(where + ": expected NAME=FRACTION, got '" + item + "'");
    SplitPart part{trim(item.substr(0, eq)), 0};
    if (part.name != "train" && part.name != "val" && part.name != "test")
        throw ConfigError(where + ": unknown split '" + part.name + "' (train, val or test)");
    const std::string value = trim(item.substr(eq + 1));
    char* end = nullptr;
    part.fraction = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(part.fraction) || part.fraction <= 0)
        throw ConfigError(where + ": fraction of '" + part.name +
                          "' must be a number above 0, got '" + value + "'");
    return part;
}

}  // namespace

SplitSpec parse_split(const std::string& text, const std::string& key) {
    SplitSpec spec;
    double sum = 0;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        SplitPart part = parse_part(text.substr(start, comma - start), key, text);
        for (const SplitPart& p : spec)
            if (p.name == part.name)
                throw ConfigError(key + " '" + text + "': split '" + part.name + "' given twice");
        sum += part.fraction;
        spec.push_back(part);
        start = comma + 1;
    }
    if (std::fabs(sum - 1.0) > 1e-6)
        throw ConfigError(key + " '" + text + "': fractions sum to " + format("%.6g", sum) +
                          ", expected 1");
    return spec;
}

}  // namespace cardsynth
