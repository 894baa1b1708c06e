#include "base/text.h"

#include <cctype>
#include <cstdarg>
#include <cstdint>
#include <cstdio>

namespace cardsynth {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string& s, const char* blanks) {
    const size_t begin = s.find_first_not_of(blanks);
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(blanks) - begin + 1);
}

std::string format(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    va_list again;
    va_copy(again, args);
    const int size = std::vsnprintf(nullptr, 0, fmt, args);
    va_end(args);
    std::string out;
    if (size > 0) {
        // One more byte for the terminating NUL that vsnprintf always writes.
        out.resize(static_cast<size_t>(size) + 1);
        std::vsnprintf(&out[0], out.size(), fmt, again);
        out.resize(static_cast<size_t>(size));
    }
    va_end(again);
    return out;
}

std::string byte_size_text(double bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) bytes /= 1024.0, ++u;
    if (u == 0) return format("%.0f bytes", bytes);
    return bytes == static_cast<double>(static_cast<int64_t>(bytes))
               ? format("%.0f %s", bytes, units[u])
               : format("%.1f %s", bytes, units[u]);
}

}  // namespace cardsynth
