// Small string helpers that several concepts need: case folding for case-insensitive names and
// file extensions, trimming of hand-written values, and printf-style formatting into a string.
#pragma once

#include <string>

namespace cardsynth {

// `s` with every byte passed through std::tolower in the C locale: ASCII letters fold, other bytes
// (UTF-8 sequences included) stay as they are.
std::string lower(std::string s);

// `s` without leading and trailing characters from `blanks`; "" when it holds nothing else.
std::string trim(const std::string& s, const char* blanks = " \t\r\n");

// printf into a std::string of whatever length the result needs; the compiler checks the
// arguments against the format.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// "1 MiB", "256 MiB", "3.2 GiB", "512 bytes": a byte count for messages.
std::string byte_size_text(double bytes);

}  // namespace cardsynth
