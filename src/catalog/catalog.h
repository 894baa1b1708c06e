// The cards a run draws from: found in card directories (or listed by a Scryfall-style JSON, or
// the built-in deck), matched to their popularity, filtered by rank, weighted, and sampled with
// an alias table. Built identically on every rank: files are sorted, so ids are stable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "base/hash.h"
#include "catalog/alias_sampler.h"
#include "config/config.h"

namespace cardsynth {

struct Card {
    // File names are bytes: name and source hold them as the file system gave them, which need
    // not be UTF-8 (the dataset writer stores valid UTF-8 beside the raw bytes).
    std::string name;    // file name without extension, or the built-in name
    std::string source;  // file path, or "builtin:<id>"
    // The file as the catalog read it; a built-in card has size and mtime 0 and the hash of what
    // it is drawn from (builtin_stamp), so --resume can tell that every card is the same.
    FileStamp file;
    int builtin_id = -1;        // >= 0 for a built-in card
    int width = 0, height = 0;  // pixels of the source image
    int rank = 0;               // popularity rank, 0 = none
    bool has_score = false;
    double score = 0.0;        // popularity score (higher is more popular), when has_score
    bool has_row = false;      // matched a row of the popularity table
    double base_weight = 1.0;  // score, or rank^-rank_exponent, before dampening
    double probability = 0.0;  // sampling probability after dampening and normalisation
};

// What the seed printed at start, and `inspect` prints again from a file.
struct PopularityReport {
    double ratio_before = 1.0;   // max/min base weight
    double ratio_after = 1.0;    // max/min sampling weight (after ^p)
    double top100_before = 0.0;  // share of the 100 heaviest cards, undampened weights
    double top100_after = 0.0;   // the same, dampened
    size_t cards = 0;
};

class Catalog {
  public:
    // Scans and validates the sources named in `config` (a bad file is skipped with a warning
    // naming it, or an InputError under cards.strict), reads popularity, filters and weights.
    // Throws InputError for a missing directory, a directory with no usable images, an unreadable
    // popularity file, or an empty result.
    static Catalog load(const CardsConfig& config);
    // A catalog from explicit cards (tests); computes the weights as load() does.
    static Catalog from_cards(std::vector<Card> cards, const CardsConfig& config);

    const std::vector<Card>& cards() const { return cards_; }
    size_t size() const { return cards_.size(); }
    // A card id drawn by popularity (uniform without use_popularity_weights).
    int32_t sample(double u_column, double u_coin) const {
        return sampler_.sample(u_column, u_coin);
    }
    const PopularityReport& report() const { return report_; }
    // The popularity table as read ("" and a zero stamp without one).
    const std::string& popularity_path() const { return popularity_path_; }
    const FileStamp& popularity_file() const { return popularity_file_; }
    // The lines the seed printed about the weights.
    std::vector<std::string> report_lines() const;

    // Decodes card `id` as RGBA8 at its source size, or smaller when a JPEG can be decoded at a
    // reduced scale that keeps at least `min_height` rows (built-in cards are rendered).
    cv::Mat load_rgba(int32_t id, int min_height = 0) const;

  private:
    std::vector<Card> cards_;
    AliasSampler sampler_;
    PopularityReport report_;
    int64_t max_pixels_ = 0;
    std::string origin_;  // where the cards came from, for the report
    std::string popularity_path_;
    FileStamp popularity_file_;
    bool weighted_ = false;  // use_popularity_weights
    double power_ = 1.0;     // weight_dampening_power
};

// Weights: base = score when present, else rank^-exponent (cards without a rank get the
// lowest base weight in the table); probability = base^power, normalised; uniform when
// use_popularity_weights is false. Exposed for tests of the dampening arithmetic.
void assign_weights(std::vector<Card>& cards, const CardsConfig& config, PopularityReport& report);

// The stamp of built-in card `id`: a pure function of what it is drawn from (its id, name and
// size), so the same on every rank and run.
FileStamp builtin_stamp(int id);

}  // namespace cardsynth
