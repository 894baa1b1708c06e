// UTF-8 checks and Unicode simple case folding: file names are bytes, the dataset stores UTF-8,
// and popularity names match card names ignoring case in every script the fold table covers.
#include <string>

#include <catch2/catch.hpp>

#include "base/text.h"

using namespace cardsynth;

TEST_CASE("fold_case folds Latin-1, Latin Extended-A, Greek and Cyrillic capitals", "[unicode]") {
    CHECK(fold_case(std::string("ÉCLAIR")) == "éclair");
    CHECK(fold_case(std::string("Ærø Øst ÞORN")) == "ærø øst þorn");
    CHECK(fold_case(std::string("ŁÓDŹ ŚWIĘTY ĞÜŞ Ÿ")) == "łódź święty ğüş ÿ");
    CHECK(fold_case(std::string("ΣΟΦΊΑ ΆΛΦΑ")) == "σοφία άλφα");
    CHECK(fold_case(std::string("ЖАР-ПТИЦА Ёж ЇЖАК")) == "жар-птица ёж їжак");
    CHECK(fold_case(std::string("Ѣ Ґ Ӂ Ӑ")) == "ѣ ґ ӂ ӑ");
}

TEST_CASE("fold_case maps variant forms to one and leaves lower case alone", "[unicode]") {
    // Final sigma, micro sign and long s fold to what their plain forms fold to.
    CHECK(fold_case(std::string("ς")) == fold_case(std::string("Σ")));
    CHECK(fold_case(std::string("µ")) == "μ");
    CHECK(fold_case(std::string("ſ")) == "s");
    CHECK(fold_case(U'Ÿ') == U'ÿ');
    CHECK(fold_case(U'ϴ') == U'θ');
    const std::string lower_text = "éclair σοφία жар-птица łódź";
    CHECK(fold_case(lower_text) == lower_text);
    // ß has no simple folding (only the full "ss"), İ none either: both stay.
    CHECK(fold_case(std::string("ß İ")) == "ß İ");
}

TEST_CASE("fold_case keeps bytes that are not UTF-8 and folds around them", "[unicode]") {
    // Latin-1 "Éclair": 0xC9 is no UTF-8 sequence here, so it stays; the ASCII folds.
    CHECK(fold_case(std::string("\xC9"
                                "CLAIR")) ==
          "\xC9"
          "clair");
    CHECK(fold_case(std::string("A\xFF\xFE"
                                "B")) ==
          "a\xFF\xFE"
          "b");
}

TEST_CASE("is_valid_utf8 accepts well-formed UTF-8 only", "[unicode]") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ASCII"));
    CHECK(is_valid_utf8("éclair ΣΟΦΊΑ жар 😀"));
    CHECK_FALSE(
        is_valid_utf8("\xE9"
                      "clair"));                     // Latin-1 é
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong "/"
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // cut short
}

TEST_CASE("to_valid_utf8 replaces each maximal ill-formed subpart by one U+FFFD", "[unicode]") {
    const std::string r = "\xEF\xBF\xBD";
    CHECK(to_valid_utf8("\xE9"
                        "clair") == r + "clair");
    CHECK(to_valid_utf8("na\xEFve") == "na" + r + "ve");
    // A cut-short sequence is one subpart; a byte that cannot start one is a subpart alone.
    CHECK(to_valid_utf8("\xE2\x82"
                        "x") == r + "x");
    CHECK(to_valid_utf8("\xC0\xAF") == r + r);
    CHECK(to_valid_utf8("\xED\xA0\x80") == r + r + r);
    CHECK(to_valid_utf8("\xF0\x9F\x98") == r);
    const std::string good = "éclair 😀";
    CHECK(to_valid_utf8(good) == good);
    CHECK(is_valid_utf8(to_valid_utf8("\xFF\xFE\x80 \xC3")));
}
