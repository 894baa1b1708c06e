#include "commands/inspect.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "base/error.h"
#include "dataset/dataset_reader.h"

namespace cardsynth {
namespace {

std::string fmt(const char* f, double a, double b = 0, double c = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c);
    return buf;
}

// "count, card_id [M], corners [M, 4, 2], ...": the label columns and their shape per image.
std::string label_line(const LabelSchema& schema) {
    std::string line;
    for (const LabelColumn& c : schema.columns()) {
        std::string shape = c.extent == LabelExtent::PerSlot ? "M" : "";
        for (int a = 0; a < c.shape.rank; ++a)
            shape += (shape.empty() ? "" : ", ") + std::to_string(c.shape.dims[a]);
        line += (line.empty() ? "" : ", ") + std::string(c.name) + " " + type_name(c.type) +
                (shape.empty() ? "" : " [" + shape + "]");
    }
    return line;
}

std::vector<std::string> describe(const std::string& dataset) {
    DatasetReader reader(dataset);
    const DatasetHeader& h = reader.header();
    const auto done = reader.done();
    const int64_t finished = std::count(done.begin(), done.end(), uint8_t{1});
    std::vector<std::string> out;
    out.push_back("file:        " + dataset);
    out.push_back("schema:      " + reader.schema() + " (" + h.generator_version + ", created " +
                  h.created_utc + ")");
    out.push_back("images:      " + std::to_string(h.num_images) + " of " +
                  std::to_string(h.width) + "x" + std::to_string(h.height) + " RGB, up to " +
                  std::to_string(h.max_cards) + " cards each");
    out.push_back(std::string("storage:     ") + to_string(h.storage) +
                  (h.masks ? ", with /masks" : ""));
    out.push_back("seed:        " + std::to_string(h.seed));
    out.push_back("completion:  " + std::to_string(finished) + "/" + std::to_string(h.num_images) +
                  " images done; complete = " +
                  (reader.complete() ? "1" : "0 (unfinished: --resume finishes it)"));
    out.push_back("labels:      " + label_line(reader.label_schema()));
    const CardTable& cards = reader.cards();
    out.push_back("cards:       " + std::to_string(cards.names.size()) + " in the catalog");

    // Popularity: how often the 100 heaviest cards were drawn, against what their weights say.
    const auto ids = reader.all_card_ids();
    if (!ids.empty() && !cards.weights.empty()) {
        std::vector<int64_t> drawn(cards.weights.size(), 0);
        for (int32_t id : ids)
            if (id >= 0 && static_cast<size_t>(id) < drawn.size()) ++drawn[id];
        std::vector<size_t> order(cards.weights.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return cards.weights[a] > cards.weights[b]; });
        const size_t top = std::min<size_t>(100, order.size());
        double expected = 0, got = 0;
        for (size_t k = 0; k < top; ++k)
            expected += cards.weights[order[k]], got += drawn[order[k]];
        const double total_w = std::accumulate(cards.weights.begin(), cards.weights.end(), 0.0);
        out.push_back(
            fmt("popularity:  %.0f cards drawn; the top 100 by weight took %.1f%% of draws",
                ids.size(), 100.0 * got / ids.size()) +
            fmt(" (weights say %.1f%%)", total_w > 0 ? 100.0 * expected / total_w : 0.0));
        const auto most = std::max_element(drawn.begin(), drawn.end());
        out.push_back("most drawn:  '" + cards.names[most - drawn.begin()] + "' " +
                      std::to_string(*most) + " times");
    }
    return out;
}

}  // namespace

std::vector<std::string> inspect_dataset(const std::string& dataset) {
    // A file that cannot be read as a dataset is a bad input (exit 2), as for export.
    try {
        return describe(dataset);
    } catch (const DatasetError& e) {
        throw InputError(e.what());
    }
}

}  // namespace cardsynth
