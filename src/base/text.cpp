#include "base/text.h"

#include <cctype>
#include <cstdarg>
#include <cstdint>
#include <cstdio>

namespace cardsynth {
namespace {

// Runs of code points that fold by adding `delta`: every one of [first, last] when `stride` is
// 1, every other one from `first` (the capitals of alternating pairs) when it is 2. From the C
// and S entries of Unicode's CaseFolding.txt for the blocks named in text.h.
struct FoldRun {
    char32_t first, last;
    int32_t delta;
    int32_t stride;
};

constexpr FoldRun kFoldRuns[] = {
    {0x0041, 0x005A, 32, 1},  {0x00B5, 0x00B5, 775, 1},  {0x00C0, 0x00D6, 32, 1},
    {0x00D8, 0x00DE, 32, 1},  {0x0100, 0x012E, 1, 2},    {0x0132, 0x0136, 1, 2},
    {0x0139, 0x0147, 1, 2},   {0x014A, 0x0176, 1, 2},    {0x0178, 0x0178, -121, 1},
    {0x0179, 0x017D, 1, 2},   {0x017F, 0x017F, -268, 1}, {0x0345, 0x0345, 116, 1},
    {0x0370, 0x0372, 1, 2},   {0x0376, 0x0376, 1, 1},    {0x037F, 0x037F, 116, 1},
    {0x0386, 0x0386, 38, 1},  {0x0388, 0x038A, 37, 1},   {0x038C, 0x038C, 64, 1},
    {0x038E, 0x038F, 63, 1},  {0x0391, 0x03A1, 32, 1},   {0x03A3, 0x03AB, 32, 1},
    {0x03C2, 0x03C2, 1, 1},   {0x03CF, 0x03CF, 8, 1},    {0x03D0, 0x03D0, -30, 1},
    {0x03D1, 0x03D1, -25, 1}, {0x03D5, 0x03D5, -15, 1},  {0x03D6, 0x03D6, -22, 1},
    {0x03D8, 0x03EE, 1, 2},   {0x03F0, 0x03F0, -54, 1},  {0x03F1, 0x03F1, -48, 1},
    {0x03F4, 0x03F4, -60, 1}, {0x03F5, 0x03F5, -64, 1},  {0x03F7, 0x03F7, 1, 1},
    {0x03F9, 0x03F9, -7, 1},  {0x03FA, 0x03FA, 1, 1},    {0x03FD, 0x03FF, -130, 1},
    {0x0400, 0x040F, 80, 1},  {0x0410, 0x042F, 32, 1},   {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},   {0x04C0, 0x04C0, 15, 1},   {0x04C1, 0x04CD, 1, 2},
    {0x04D0, 0x052E, 1, 2},
};

constexpr char32_t kNotUtf8 = 0xFFFFFFFF;
const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// The UTF-8 sequence at p[0] (n > 0 bytes left): returns its length and sets `c` to its code
// point, or, when it is ill-formed, returns the length of its maximal ill-formed subpart (the
// lead byte and the continuation bytes that could still have been part of a well-formed
// sequence; at least 1) and sets `c` to kNotUtf8. The byte ranges are Table 3-7 of the Unicode
// standard, which excludes overlong forms, surrogates and code points past U+10FFFF.
size_t decode_utf8(const unsigned char* p, size_t n, char32_t& c) {
    const unsigned char lead = p[0];
    if (lead < 0x80) return c = lead, 1;
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 1, c = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 2, c = lead & 0x0F;
        if (lead == 0xE0) lo = 0xA0;
        if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 3, c = lead & 0x07;
        if (lead == 0xF0) lo = 0x90;
        if (lead == 0xF4) hi = 0x8F;
    } else {
        return c = kNotUtf8, 1;
    }
    for (size_t k = 1; k <= need; ++k) {
        if (k >= n || p[k] < lo || p[k] > hi) return c = kNotUtf8, k;
        c = (c << 6) | (p[k] & 0x3F);
        lo = 0x80, hi = 0xBF;
    }
    return need + 1;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// Calls `each(bytes, length, code point or kNotUtf8)` for every sequence of `s` in order.
template <class F>
void for_each_sequence(const std::string& s, F each) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
    for (size_t i = 0; i < s.size();) {
        char32_t c = 0;
        const size_t n = decode_utf8(p + i, s.size() - i, c);
        each(s.data() + i, n, c);
        i += n;
    }
}

}  // namespace

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

char32_t fold_case(char32_t c) {
    for (const FoldRun& run : kFoldRuns) {
        if (c < run.first) break;  // the runs are in order
        if (c <= run.last && (c - run.first) % run.stride == 0)
            return static_cast<char32_t>(static_cast<int32_t>(c) + run.delta);
    }
    return c;
}

std::string fold_case(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for_each_sequence(s, [&](const char* bytes, size_t n, char32_t c) {
        if (c == kNotUtf8)
            out.append(bytes, n);
        else
            append_utf8(out, fold_case(c));
    });
    return out;
}

bool is_valid_utf8(const std::string& s) {
    bool valid = true;
    for_each_sequence(s, [&](const char*, size_t, char32_t c) { valid &= c != kNotUtf8; });
    return valid;
}

std::string to_valid_utf8(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for_each_sequence(s, [&](const char* bytes, size_t n, char32_t c) {
        if (c == kNotUtf8)
            out += kReplacement;
        else
            out.append(bytes, n);
    });
    return out;
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
