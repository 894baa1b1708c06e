#include "run/input_record.h"

#include <algorithm>
#include <set>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "base/text.h"

namespace cardsynth {
namespace {

// A path for a message: file names need not be UTF-8, a terminal line should be.
std::string shown(const std::string& path) {
    return "'" + to_valid_utf8(path) + "'";
}

// How `now` differs from `then`, the most telling difference first; "" when they agree.
std::string stamp_difference(const FileStamp& then, const FileStamp& now) {
    if (then.size != now.size)
        return "changed size (" + std::to_string(then.size) + " bytes then, " +
               std::to_string(now.size) + " now)";
    if (then.hash != now.hash)
        return format("changed content (same size; xxh64 %016llx then, %016llx now)",
                      static_cast<unsigned long long>(then.hash),
                      static_cast<unsigned long long>(now.hash));
    if (then.mtime_ns != now.mtime_ns)
        return "changed modification time (same size and content hash)";
    return "";
}

std::string table_difference(const CardTable& stored, const Catalog& catalog) {
    const std::string& then = stored.popularity_path;
    const std::string& now = catalog.popularity_path();
    if (then != now) {
        if (then.empty()) return "a popularity table was added (" + shown(now) + ")";
        if (now.empty()) return "the popularity table " + shown(then) + " was removed";
        return "the popularity table is " + shown(now) + ", not " + shown(then);
    }
    if (now.empty()) return "";
    const std::string why = stamp_difference(stored.popularity_file, catalog.popularity_file());
    return why.empty() ? "" : "the popularity table " + shown(now) + " " + why;
}

// The first card that is in one list and not the other, in the order of the lists (sorted by
// path for card directories), or the first position where they disagree.
std::string list_difference(const std::vector<std::string>& then, const std::vector<Card>& now) {
    const std::set<std::string> before(then.begin(), then.end());
    std::set<std::string> after;
    for (const Card& card : now) after.insert(card.source);
    for (size_t i = 0; i < std::max(then.size(), now.size()); ++i) {
        if (i < now.size() && !before.count(now[i].source))
            return "card " + shown(now[i].source) + " was added";
        if (i < then.size() && !after.count(then[i]))
            return "card " + shown(then[i]) + " was removed";
        if (i < then.size() && i < now.size() && then[i] != now[i].source)
            return "card " + shown(now[i].source) + " moved to position " + std::to_string(i);
    }
    return "";
}

}  // namespace

std::string first_input_difference(const CardTable& stored, const Catalog& catalog) {
    const std::vector<Card>& cards = catalog.cards();
    if (!stored.files.empty()) {
        const std::string table = table_difference(stored, catalog);
        if (!table.empty()) return table;
    }
    const std::string list = list_difference(stored.source_bytes, cards);
    if (!list.empty()) return list;
    if (stored.files.size() != cards.size()) return "";  // no record: the list is all there is
    for (size_t i = 0; i < cards.size(); ++i) {
        const std::string why = stamp_difference(stored.files[i], cards[i].file);
        if (!why.empty()) return "card " + shown(cards[i].source) + " " + why;
    }
    return "";
}

void check_same_inputs(const CardTable& stored, const Catalog& catalog, const std::string& file) {
    const std::string why = first_input_difference(stored, catalog);
    if (!why.empty())
        throw InputError("--resume: '" + file + "' was made from other inputs: " + why +
                         "; resume with the same inputs or start over with --overwrite");
    if (stored.files.empty())
        log::warn("'" + file +
                  "' was made before files recorded their inputs: only its list of cards was "
                  "compared with the catalog");
}

}  // namespace cardsynth
