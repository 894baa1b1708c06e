// Small string helpers that several concepts need: case folding for case-insensitive names and
// file extensions, UTF-8 checks for names that came from file systems, trimming of hand-written
// values, and printf-style formatting into a string.
#pragma once

#include <string>

namespace cardsynth {

// `s` with every byte passed through std::tolower in the C locale: ASCII letters fold, other bytes
// (UTF-8 sequences included) stay as they are.
std::string lower(std::string s);

// `s` with Unicode simple case folding applied to every well-formed UTF-8 character, so that
// "ÉCLAIR" and "éclair" fold alike. The table covers ASCII, Latin-1 Supplement, Latin Extended-A,
// Greek and Cyrillic; other characters, and bytes that are not well-formed UTF-8, stay as they are.
std::string fold_case(const std::string& s);
// The simple case folding of one code point (itself when the table has none).
char32_t fold_case(char32_t c);

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(const std::string& s);
// `s` as well-formed UTF-8: each maximal ill-formed subsequence becomes U+FFFD, as Unicode
// recommends and as Python's bytes.decode("utf-8", "replace") does.
std::string to_valid_utf8(const std::string& s);

// `s` without leading and trailing characters from `blanks`; "" when it holds nothing else.
std::string trim(const std::string& s, const char* blanks = " \t\r\n");

// printf into a std::string of whatever length the result needs; the compiler checks the
// arguments against the format.
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// "1 MiB", "256 MiB", "3.2 GiB", "512 bytes": a byte count for messages.
std::string byte_size_text(double bytes);

}  // namespace cardsynth
