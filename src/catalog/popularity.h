// Popularity tables: a CSV with a header and the columns `file` or `name`, and `rank` or `score`;
// or a Scryfall-style JSON list of objects with `name`, `edhrec_rank` and an image path.
#pragma once

#include <string>
#include <vector>

#include "base/hash.h"

namespace cardsynth {

struct PopularityRow {
    std::string file;  // path suffix (whole components) to match, or ""
    std::string name;  // file name without extension, matched ignoring case, or ""
    int rank = 0;      // 0 = none
    double score = 0;  // used when has_score
    bool has_score = false;
};

// Parse from text; `origin` names the file in errors (InputError: "popularity.csv:12: rank
// 'abc' is not an integer"). The format is told by the extension of origin (.json) or content.
std::vector<PopularityRow> parse_popularity_csv(const std::string& text, const std::string& origin);
std::vector<PopularityRow> parse_popularity_json(const std::string& text,
                                                 const std::string& origin);
// Reads and parses a file by its extension (.json, otherwise CSV); unreadable is an InputError.
// Fills `stamp`, when given, with the file as read.
std::vector<PopularityRow> load_popularity(const std::string& path, FileStamp* stamp = nullptr);

}  // namespace cardsynth
