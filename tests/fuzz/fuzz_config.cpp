// Fuzzes the YAML configuration loader: any text must either load or be refused with a
// ConfigError; anything else (another exception, a crash, undefined behaviour) is a bug. A
// configuration that loads and validates must also survive its own round trip through to_yaml.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "config/config.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_config: %s: %s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    cardsynth::Config config;
    try {
        cardsynth::apply_yaml(config, text, "fuzz.yaml");
        cardsynth::validate(config);
    } catch (const cardsynth::ConfigError&) {
        return 0;
    }
    // The dataset stores to_yaml() and --resume reloads it: what was accepted once must load
    // again to the same content.
    const std::string yaml = cardsynth::to_yaml(config);
    cardsynth::Config again;
    try {
        cardsynth::apply_yaml(again, yaml, "to_yaml");
        cardsynth::validate(again);
    } catch (const cardsynth::ConfigError& e) {
        fail("to_yaml output does not load back", std::string(e.what()) + "\n" + yaml);
    }
    const std::string differs = cardsynth::first_content_difference(config, again);
    if (!differs.empty()) fail("key changed in the to_yaml round trip", differs + "\n" + yaml);
    return 0;
}
