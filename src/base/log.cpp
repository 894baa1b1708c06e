#include "base/log.h"

#include <cstdio>

namespace cardsynth::log {
namespace {
bool g_speaker = true;
}

void set_speaker(bool speaks) {
    g_speaker = speaks;
}
bool is_speaker() {
    return g_speaker;
}

void info(const std::string& line) {
    if (!g_speaker) return;
    std::fprintf(stdout, "%s\n", line.c_str());
    std::fflush(stdout);
}

void warn(const std::string& line) {
    if (!g_speaker) return;
    std::fprintf(stderr, "warning: %s\n", line.c_str());
    std::fflush(stderr);
}

}  // namespace cardsynth::log
