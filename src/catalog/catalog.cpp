#include "catalog/catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "base/error.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/text.h"
#include "catalog/builtin_deck.h"
#include "catalog/card_image.h"
#include "catalog/popularity.h"

namespace cardsynth {
namespace {

namespace fs = std::filesystem;

bool is_card_extension(const fs::path& path) {
    const std::string ext = lower(path.extension().string());
    return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp";
}

// Path components without empty and "." ones, so that "./a//b.png" and "a/b.png" agree.
std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    std::string part;
    for (size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/' || path[i] == '\\') {
            if (!part.empty() && part != ".") parts.push_back(part);
            part.clear();
        } else {
            part += path[i];
        }
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts, size_t from) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i) out += (i > from ? "/" : "") + parts[i];
    return out;
}

struct Candidate {
    std::string path;
    size_t group = 0;  // the card directory (or JSON file) it came from
    std::string name;
    int rank = 0;
    bool has_row = false;
};

// Walks a card directory. Directory symlinks are followed, but each directory (by device and
// inode) is entered once, so a symlink loop ends; unreadable directories become warnings.
void walk(const fs::path& root, size_t group, std::vector<Candidate>& out) {
    std::set<std::pair<dev_t, ino_t>> visited;
    std::vector<fs::path> pending{root};
    while (!pending.empty()) {
        const fs::path dir = pending.back();
        pending.pop_back();
        struct stat st;
        if (::stat(dir.c_str(), &st) != 0) {
            log::warn("cannot enter card directory '" + dir.string() + "'");
            continue;
        }
        if (!visited.insert({st.st_dev, st.st_ino}).second) continue;
        std::error_code ec;
        fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
        if (ec) {
            log::warn("cannot read card directory '" + dir.string() + "': " + ec.message());
            continue;
        }
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            if (ec) break;
            const fs::path& path = it->path();
            std::error_code type_ec;
            if (it->is_directory(type_ec)) {
                pending.push_back(path);
            } else if (is_card_extension(path)) {
                out.push_back({path.string(), group, path.stem().string(), 0, false});
            }
        }
        if (ec)
            log::warn("error while reading card directory '" + dir.string() + "': " + ec.message());
    }
}

// Validates the candidates in parallel (decoding dominates), then reports in path order, so the
// warnings and the resulting ids do not depend on the thread count.
std::vector<Card> validate(const std::vector<Candidate>& candidates, const CardsConfig& config,
                           size_t groups, std::vector<size_t>& usable_per_group) {
    if (candidates.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
        throw InputError("more than " + std::to_string(std::numeric_limits<int>::max()) +
                         " card files");
    std::vector<std::string> reasons(candidates.size());
    std::vector<std::pair<int, int>> sizes(candidates.size());
    std::vector<FileStamp> stamps(candidates.size());
    // A file that cannot be checked is a bad card like any other (skipped, or an error with
    // cards.strict), so its exception becomes its reason; parallel_for carries anything else.
    parallel_for(static_cast<int>(candidates.size()), 0, [&](int i) {
        try {
            reasons[i] = check_card_file(candidates[i].path, config.max_pixels, sizes[i].first,
                                         sizes[i].second, &stamps[i]);
        } catch (const std::exception& e) {
            reasons[i] = std::string("cannot check: ") + e.what();
        }
    });
    usable_per_group.assign(groups, 0);
    std::vector<Card> cards;
    cards.reserve(candidates.size());
    for (size_t i = 0; i < candidates.size(); ++i) {
        const Candidate& c = candidates[i];
        if (!reasons[i].empty()) {
            if (config.strict) throw InputError("card '" + c.path + "': " + reasons[i]);
            log::warn("skipping card '" + c.path + "': " + reasons[i]);
            continue;
        }
        Card card;
        card.name = c.name;
        card.source = c.path;
        card.file = stamps[i];
        card.width = sizes[i].first;
        card.height = sizes[i].second;
        card.rank = c.rank;
        card.has_row = c.has_row;
        cards.push_back(std::move(card));
        ++usable_per_group[c.group];
    }
    return cards;
}

// The card directories, each once: "d ./d" or "d d" name one directory, whose cards would
// otherwise enter the catalog twice or leave the second name with no card of its own.
std::vector<std::string> distinct_dirs(const std::vector<std::string>& dirs) {
    std::vector<std::string> distinct;
    std::unordered_map<std::string, std::string> first_by_real;
    for (const std::string& dir : dirs) {
        std::error_code ec;
        if (!fs::exists(dir, ec)) throw InputError("card directory '" + dir + "' does not exist");
        if (!fs::is_directory(dir, ec))
            throw InputError("card directory '" + dir + "' is not a directory");
        fs::path real = fs::canonical(dir, ec);  // it exists: symlinks, "." and ".." resolved
        if (ec) real = fs::absolute(dir).lexically_normal();
        const auto [it, fresh] = first_by_real.emplace(real.string(), dir);
        if (!fresh) {
            log::warn("card directory '" + dir + "' is '" + it->second +
                      "' again; its cards are read once");
            continue;
        }
        distinct.push_back(dir);
    }
    return distinct;
}

std::vector<Card> cards_from_dirs(const CardsConfig& config) {
    const std::vector<std::string> dirs = distinct_dirs(config.dirs);
    std::vector<Candidate> candidates;
    for (size_t g = 0; g < dirs.size(); ++g) walk(dirs[g], g, candidates);
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.path < b.path; });
    candidates.erase(
        std::unique(candidates.begin(), candidates.end(),
                    [](const Candidate& a, const Candidate& b) { return a.path == b.path; }),
        candidates.end());
    std::vector<size_t> usable;
    std::vector<Card> cards = validate(candidates, config, dirs.size(), usable);
    for (size_t g = 0; g < dirs.size(); ++g)
        if (usable[g] == 0)
            throw InputError("card directory '" + dirs[g] +
                             "' has no usable card images (jpg, jpeg, png, webp)");
    return cards;
}

// A Scryfall-style list whose entries name local images: paths are relative to the list.
std::vector<Card> cards_from_json(const std::string& json_path,
                                  const std::vector<PopularityRow>& rows,
                                  const CardsConfig& config) {
    const fs::path base = fs::path(json_path).parent_path();
    std::vector<Candidate> candidates;
    size_t without_path = 0;
    for (const PopularityRow& row : rows) {
        if (row.file.empty()) {
            ++without_path;
            continue;
        }
        const fs::path p(row.file);
        candidates.push_back(
            {(p.is_absolute() ? p : base / p).string(), 0, row.name, row.rank, true});
    }
    if (without_path > 0)
        log::warn(std::to_string(without_path) + (without_path == 1 ? " entry" : " entries") +
                  " of '" + json_path + "' without an image_path left out");
    std::vector<size_t> usable;
    std::vector<Card> cards = validate(candidates, config, 1, usable);
    if (cards.empty()) throw InputError("'" + json_path + "' lists no usable card images");
    return cards;
}

std::vector<Card> builtin_deck(const CardsConfig& config) {
    std::vector<Card> cards(static_cast<size_t>(std::max(0, config.builtin_count)));
    for (size_t i = 0; i < cards.size(); ++i) {
        Card& card = cards[i];
        card.builtin_id = static_cast<int>(i);
        card.name = builtin_card_name(card.builtin_id);
        card.source = "builtin:" + std::to_string(i);
        card.file = builtin_stamp(card.builtin_id);
        card.width = kBuiltinCardWidth;
        card.height = kBuiltinCardHeight;
    }
    return cards;
}

// The card a row stands for: its file's path components, or its name when it names no file.
std::string row_key(const PopularityRow& row) {
    return row.file.empty() ? "name:" + fold_case(row.name)
                            : "file:" + join(components(row.file), 0);
}

// An error under cards.strict, a warning otherwise: the table does not say what its author meant.
void complain(const std::string& what, const std::string& otherwise, bool strict) {
    if (strict) throw InputError(what);
    log::warn(what + "; " + otherwise);
}

// A table with no rows weights nothing, and of two rows for one card only the first counts:
// either is a table that does not say what its author meant.
void check_popularity_rows(const std::vector<PopularityRow>& rows, const std::string& table,
                           bool strict) {
    if (rows.empty()) {
        complain("popularity table '" + table + "' has a header but no rows (0 cards ranked)",
                 "every card gets the same weight", strict);
        return;
    }
    std::set<std::string> seen;
    size_t repeated = 0;
    std::string first;
    for (const PopularityRow& row : rows)
        if (!seen.insert(row_key(row)).second && repeated++ == 0)
            first = row.file.empty() ? row.name : row.file;
    if (repeated > 0)
        complain("popularity table '" + table + "' has " + std::to_string(repeated) +
                     (repeated == 1 ? " row" : " rows") + " repeating a card of another row (" +
                     std::to_string(rows.size()) + " rows; the first repeated: '" + first + "')",
                 "the first row of each card counts", strict);
}

// Gives each card the popularity of its row: a `file` row matches on whole trailing path
// components (the longest such suffix wins), a `name` row matches the name ignoring case
// (Unicode simple case folding, so "ÉCLAIR" names the card "éclair").
void match_popularity(std::vector<Card>& cards, const std::vector<PopularityRow>& rows,
                      const std::string& table, bool strict) {
    std::unordered_map<std::string, size_t> by_file, by_name;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (!rows[i].file.empty()) by_file.emplace(join(components(rows[i].file), 0), i);
        if (!rows[i].name.empty()) by_name.emplace(fold_case(rows[i].name), i);
    }
    size_t unmatched = 0;
    std::string first_unmatched;
    for (Card& card : cards) {
        const PopularityRow* row = nullptr;
        if (card.builtin_id < 0 && !by_file.empty()) {
            const std::vector<std::string> parts = components(card.source);
            for (size_t from = 0; from < parts.size() && !row; ++from) {
                const auto it = by_file.find(join(parts, from));
                if (it != by_file.end()) row = &rows[it->second];
            }
        }
        if (!row) {
            const auto it = by_name.find(fold_case(card.name));
            if (it != by_name.end()) row = &rows[it->second];
        }
        if (!row) {
            if (unmatched++ == 0) first_unmatched = card.source;
            continue;
        }
        card.has_row = true;
        card.rank = row->rank;
        card.has_score = row->has_score;
        card.score = row->score;
    }
    if (unmatched == 0) return;
    if (unmatched == cards.size()) {
        complain("none of the " + std::to_string(rows.size()) + " rows of popularity table '" +
                     table + "' matches any of the " + std::to_string(cards.size()) +
                     " cards (the first card: '" + first_unmatched + "')",
                 "every card gets the same weight", strict);
        return;
    }
    const std::string what = std::to_string(unmatched) + " card" +
                             (unmatched == 1 ? " has" : "s have") + " no popularity row in '" +
                             table + "'";
    if (strict) throw InputError(what + " (the first: '" + first_unmatched + "')");
    log::warn(what + "; they get the lowest weight");
}

std::string rank_range(const CardsConfig& config) {
    return std::to_string(config.popularity_min) + ".." +
           (config.popularity_max > 0 ? std::to_string(config.popularity_max) : "(no upper bound)");
}

}  // namespace

void assign_weights(std::vector<Card>& cards, const CardsConfig& config, PopularityReport& report) {
    report = PopularityReport{};
    report.cards = cards.size();
    if (cards.empty()) return;
    double lowest = 0.0;
    bool any = false;
    for (Card& card : cards) {
        if (card.has_score) {
            card.base_weight = card.score;
        } else if (card.rank > 0) {
            card.base_weight = std::pow(static_cast<double>(card.rank), -config.rank_exponent);
        } else {
            continue;
        }
        lowest = any ? std::min(lowest, card.base_weight) : card.base_weight;
        any = true;
    }
    for (Card& card : cards)
        if (!card.has_score && card.rank <= 0) card.base_weight = any ? lowest : 1.0;

    const size_t n = cards.size();
    const size_t top = std::min<size_t>(100, n);
    if (!config.use_popularity_weights) {
        for (Card& card : cards) card.probability = 1.0 / static_cast<double>(n);
        report.top100_before = report.top100_after = static_cast<double>(top) / n;
        return;
    }
    const double p = config.weight_dampening_power;
    std::vector<double> base(n), damped(n);
    double sum_base = 0.0, sum_damped = 0.0;
    for (size_t i = 0; i < n; ++i) {
        base[i] = cards[i].base_weight;
        damped[i] = std::pow(base[i], p);
        sum_base += base[i];
        sum_damped += damped[i];
    }
    for (size_t i = 0; i < n; ++i) cards[i].probability = damped[i] / sum_damped;
    const auto [min_it, max_it] = std::minmax_element(base.begin(), base.end());
    report.ratio_before = *max_it / *min_it;
    report.ratio_after = std::pow(*max_it, p) / std::pow(*min_it, p);
    // base^p is monotonic in base, so the heaviest cards are the same under both weightings.
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](size_t a, size_t b) { return base[a] > base[b]; });
    double top_base = 0.0, top_damped = 0.0;
    for (size_t k = 0; k < top; ++k) {
        top_base += base[order[k]];
        top_damped += damped[order[k]];
    }
    report.top100_before = top_base / sum_base;
    report.top100_after = top_damped / sum_damped;
}

FileStamp builtin_stamp(int id) {
    FileStamp stamp;
    stamp.hash =
        xxh64("builtin:" + std::to_string(id) + "\n" + builtin_card_name(id) + "\n" +
              std::to_string(kBuiltinCardWidth) + "x" + std::to_string(kBuiltinCardHeight) +
              "\ndeck " + std::to_string(kBuiltinDeckVersion));
    return stamp;
}

Catalog Catalog::from_cards(std::vector<Card> cards, const CardsConfig& config) {
    if (config.use_popularity_weights) {
        // Cards without a rank pass only the default range: a range asks for ranked cards.
        const bool narrowed = config.popularity_min > 1 || config.popularity_max > 0;
        cards.erase(
            std::remove_if(cards.begin(), cards.end(),
                           [&](const Card& c) {
                               if (c.rank <= 0) return narrowed;
                               return c.rank < config.popularity_min ||
                                      (config.popularity_max > 0 && c.rank > config.popularity_max);
                           }),
            cards.end());
        if (cards.empty())
            throw InputError("no cards with a popularity rank in " + rank_range(config) +
                             " (--popularity-min/--popularity-max)");
    }
    if (cards.empty()) throw InputError("the catalog has no cards");
    Catalog catalog;
    assign_weights(cards, config, catalog.report_);
    std::vector<double> weights(cards.size());
    for (size_t i = 0; i < cards.size(); ++i) weights[i] = cards[i].probability;
    catalog.sampler_ = AliasSampler(weights);
    catalog.cards_ = std::move(cards);
    catalog.max_pixels_ = config.max_pixels;
    catalog.weighted_ = config.use_popularity_weights;
    catalog.power_ = config.weight_dampening_power;
    catalog.origin_ = "explicit cards";
    return catalog;
}

Catalog Catalog::load(const CardsConfig& config) {
    std::vector<PopularityRow> rows;
    FileStamp popularity_file;
    if (!config.popularity.empty()) {
        rows = load_popularity(config.popularity, &popularity_file);
        check_popularity_rows(rows, config.popularity, config.strict);
    }
    const bool json_paths = config.dirs.empty() &&
                            std::any_of(rows.begin(), rows.end(),
                                        [](const PopularityRow& r) { return !r.file.empty(); }) &&
                            lower(fs::path(config.popularity).extension().string()) == ".json";

    std::vector<Card> cards;
    std::string origin;
    if (!config.dirs.empty()) {
        cards = cards_from_dirs(config);
        origin = config.dirs.size() == 1 ? "card directory" : "card directories";
        for (size_t i = 0; i < config.dirs.size(); ++i)
            origin += (i ? ", '" : " '") + config.dirs[i] + "'";
    } else if (json_paths) {
        cards = cards_from_json(config.popularity, rows, config);
        origin = "the image paths of '" + config.popularity + "'";
    } else {
        cards = builtin_deck(config);
        origin = "the built-in deck";
    }
    if (!json_paths && !rows.empty()) {
        match_popularity(cards, rows, config.popularity, config.strict);
        origin += ", popularity from '" + config.popularity + "'";
    } else if (!json_paths && config.popularity.empty() && config.dirs.empty() &&
               config.use_popularity_weights) {
        // The built-in deck is ranked in id order, so weighted sampling still has a shape.
        for (size_t i = 0; i < cards.size(); ++i) cards[i].rank = static_cast<int>(i) + 1;
    }
    Catalog catalog = from_cards(std::move(cards), config);
    catalog.origin_ = origin;
    catalog.popularity_path_ = config.popularity;
    catalog.popularity_file_ = popularity_file;
    return catalog;
}

std::vector<std::string> Catalog::report_lines() const {
    std::vector<std::string> lines;
    lines.push_back("[catalog] " + std::to_string(cards_.size()) + " cards from " + origin_);
    if (!weighted_) {
        lines.push_back("[weights] uniform sampling over " + std::to_string(cards_.size()) +
                        " cards (--use-popularity-weights not set)");
        return lines;
    }
    lines.push_back(
        format("[weights] max/min weight ratio: %.1fx before dampening, %.1fx after "
               "(power %g)",
               report_.ratio_before, report_.ratio_after, power_));
    const size_t top = std::min<size_t>(100, cards_.size());
    lines.push_back("[weights] top " + std::to_string(top) + " cards: " +
                    format("%.1f%% of draws (%.1f%% without dampening)",
                           100.0 * report_.top100_after, 100.0 * report_.top100_before));
    return lines;
}

cv::Mat Catalog::load_rgba(int32_t id, int min_height) const {
    if (id < 0 || static_cast<size_t>(id) >= cards_.size())
        throw std::out_of_range("card id " + std::to_string(id) + " is outside the catalog of " +
                                std::to_string(cards_.size()));
    const Card& card = cards_[static_cast<size_t>(id)];
    if (card.builtin_id >= 0) return render_builtin_card(card.builtin_id);
    return load_card_rgba(card.source, max_pixels_, min_height);
}

}  // namespace cardsynth
