// Fuzzes the popularity CSV parser: any text must either parse or be refused with an
// InputError, and every row it returns must be one the catalog can use.
#include <cmath>
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
             cardsynth::parse_popularity_csv(text, "fuzz.csv")) {
            const bool usable = (!row.file.empty() || !row.name.empty()) && row.rank >= 0 &&
                                (row.has_score || row.rank > 0) &&
                                (!row.has_score || (std::isfinite(row.score) && row.score > 0));
            if (!usable) {
                std::fprintf(stderr,
                             "fuzz_popularity_csv: unusable row file='%s' name='%s' "
                             "rank=%d score=%g has_score=%d\n",
                             row.file.c_str(), row.name.c_str(), row.rank, row.score,
                             int(row.has_score));
                std::abort();
            }
        }
    } catch (const cardsynth::InputError&) {
    }
    return 0;
}
