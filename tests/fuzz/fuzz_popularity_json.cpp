// Fuzzes the popularity JSON parser (Scryfall-style card list): any text must either parse or
// be refused with an InputError, and every row it returns must name a card.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "catalog/popularity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        for (const cardsynth::PopularityRow& row :
             cardsynth::parse_popularity_json(text, "fuzz.json")) {
            if (row.name.empty() || row.rank < 0) {
                std::fprintf(stderr, "fuzz_popularity_json: unusable row name='%s' rank=%d\n",
                             row.name.c_str(), row.rank);
                std::abort();
            }
        }
    } catch (const cardsynth::InputError&) {
    }
    return 0;
}
