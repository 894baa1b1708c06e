#include "catalog/popularity.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/input_file.h"
#include "base/text.h"

namespace cardsynth {
namespace {

// One CSV record starting at `pos` (RFC 4180: quoted fields may hold commas, doubled quotes and
// line breaks). Advances `pos` past the record and `line` past its line breaks.
std::vector<std::string> next_record(const std::string& text, size_t& pos, int& line,
                                     const std::string& origin) {
    std::vector<std::string> fields(1);
    const int first_line = line;
    bool quoted = false;
    while (pos < text.size()) {
        const char c = text[pos++];
        if (quoted) {
            if (c == '"') {
                if (pos < text.size() && text[pos] == '"') {
                    fields.back() += '"';
                    ++pos;
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') ++line;
                fields.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else if (c == '\n') {
            ++line;
            break;
        } else if (c != '\r') {
            fields.back() += c;
        }
    }
    if (quoted)
        throw InputError(origin + ":" + std::to_string(first_line) + ": unterminated quoted field");
    for (auto& f : fields) f = trim(f);
    return fields;
}

bool blank(const std::vector<std::string>& fields) {
    return std::all_of(fields.begin(), fields.end(),
                       [](const std::string& f) { return f.empty(); });
}

int parse_rank(const std::string& value, const std::string& where) {
    errno = 0;
    char* end = nullptr;
    const long long v = value.empty() ? 0 : std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno == ERANGE || v < 1 || v > INT32_MAX)
        throw InputError(where + ": rank '" + value + "' is not a positive integer");
    return static_cast<int>(v);
}

double parse_score(const std::string& value, const std::string& where) {
    char* end = nullptr;
    const double v = value.empty() ? 0.0 : std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(v) || !(v > 0.0))
        throw InputError(where + ": score '" + value + "' is not a positive number");
    return v;
}

}  // namespace

std::vector<PopularityRow> parse_popularity_csv(const std::string& text,
                                                const std::string& origin) {
    size_t pos = 0;
    int line = 1;
    // Skip a UTF-8 byte order mark, which spreadsheet programs like to write.
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
    std::vector<std::string> header;
    while (pos < text.size() && blank(header)) header = next_record(text, pos, line, origin);
    if (blank(header)) throw InputError(origin + ": empty popularity table");

    int col_file = -1, col_name = -1, col_rank = -1, col_score = -1;
    for (size_t i = 0; i < header.size(); ++i) {
        const std::string h = lower(header[i]);
        int* slot = h == "file"    ? &col_file
                    : h == "name"  ? &col_name
                    : h == "rank"  ? &col_rank
                    : h == "score" ? &col_score
                                   : nullptr;
        if (slot && *slot < 0) *slot = static_cast<int>(i);
    }
    if (col_file < 0 && col_name < 0)
        throw InputError(origin + ": the header has no 'file' or 'name' column");
    if (col_rank < 0 && col_score < 0)
        throw InputError(origin + ": the header has no 'rank' or 'score' column");

    std::vector<PopularityRow> rows;
    while (pos < text.size()) {
        const int record_line = line;
        const std::vector<std::string> fields = next_record(text, pos, line, origin);
        if (blank(fields)) continue;
        const std::string where = origin + ":" + std::to_string(record_line);
        auto field = [&](int col) -> std::string {
            return col >= 0 && col < static_cast<int>(fields.size()) ? fields[col] : "";
        };
        PopularityRow row;
        row.file = field(col_file);
        row.name = field(col_name);
        if (row.file.empty() && row.name.empty())
            throw InputError(where + ": no file or name in the row");
        const std::string rank = field(col_rank), score = field(col_score);
        // With both columns, either may be left empty in a row; with one, it must be filled.
        if (col_score >= 0 && (!score.empty() || col_rank < 0)) {
            row.score = parse_score(score, where);
            row.has_score = true;
        }
        if (col_rank >= 0 && (!rank.empty() || !row.has_score)) row.rank = parse_rank(rank, where);
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<PopularityRow> parse_popularity_json(const std::string& text,
                                                 const std::string& origin) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(origin + ": invalid JSON: " + e.what());
    }
    if (!doc.is_array()) throw InputError(origin + ": expected a top-level JSON array of cards");
    std::vector<PopularityRow> rows;
    rows.reserve(doc.size());
    for (size_t i = 0; i < doc.size(); ++i) {
        const auto& item = doc[i];
        const std::string where = origin + ": entry " + std::to_string(i);
        if (!item.is_object()) throw InputError(where + " is not an object");
        PopularityRow row;
        const auto name = item.find("name");
        if (name == item.end() || !name->is_string() || name->get<std::string>().empty())
            throw InputError(where + " has no 'name' string");
        row.name = name->get<std::string>();
        const auto rank = item.find("edhrec_rank");
        if (rank != item.end() && !rank->is_null()) {
            if (!rank->is_number_integer() || rank->get<int64_t>() < 1 ||
                rank->get<int64_t>() > INT32_MAX)
                throw InputError(where + " ('" + row.name + "'): edhrec_rank '" + rank->dump() +
                                 "' is not a positive integer");
            row.rank = static_cast<int>(rank->get<int64_t>());
        }
        const auto path = item.find("image_path");
        if (path != item.end() && !path->is_null()) {
            if (!path->is_string())
                throw InputError(where + " ('" + row.name + "'): image_path is not a string");
            row.file = path->get<std::string>();
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<PopularityRow> load_popularity(const std::string& path, FileStamp* stamp) {
    // The time before the bytes, so that a change while reading shows as a change.
    struct stat st {};
    const bool timed = ::stat(path.c_str(), &st) == 0;
    const std::string text = read_input_file(path, kPopularityFileLimit, "popularity file");
    if (stamp) {
        stamp->size = static_cast<int64_t>(text.size());
        stamp->mtime_ns = timed ? int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec : 0;
        stamp->hash = xxh64(text);
    }
    if (trim(text).empty()) throw InputError(path + ": empty popularity file");
    const std::string ext = lower(path.size() >= 5 ? path.substr(path.size() - 5) : path);
    const bool json = ext == ".json" || trim(text).front() == '[';
    return json ? parse_popularity_json(text, path) : parse_popularity_csv(text, path);
}

}  // namespace cardsynth
