#include "run/working_set.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/text.h"
#include "run/output_file.h"
#include "scene/background.h"

namespace cardsynth {
namespace {

// Bytes per frame pixel that each render thread holds: RGB (3), card ids (1) and scratch for the
// blurred card and the encoder of up to the same size again (4).
constexpr int64_t kThreadBytesPerPixel = 3 + 1 + 4;
// Background levels hold the image scaled by 1, 1.25 and 1.5 per side (background.cpp).
constexpr double kPlaymatAreaFactor = 1.0 + 1.25 * 1.25 + 1.5 * 1.5;
// Width over height of the widest built-in card (cards are portrait, 63 x 88 mm).
constexpr double kMaxCardAspect = 0.75;

}  // namespace

WorkingSet estimate_working_set(const Config& config, int threads) {
    const int64_t px = static_cast<int64_t>(config.frame.width) * config.frame.height;
    WorkingSet w;
    w.frames = static_cast<int64_t>(std::max(1, threads)) * px * kThreadBytesPerPixel;
    // A round holds max(4, budget / image) images, never more than the run makes; two are alive
    // while one is written.
    const int64_t per_image = std::max<int64_t>(1, stored_bytes_per_image(config));
    const int64_t round_images = std::min(std::max<int64_t>(4, kRoundBytesBudget / per_image),
                                          std::max<int64_t>(1, config.num_images));
    w.rounds = 2 * round_images * per_image;
    // The cache fills up to cache_mb only when there are enough cards: the built-in deck's size
    // is known (RGBA at the largest card height, its smaller levels adding at most 1/(1 - 0.75^2)),
    // a card directory's is not until it is listed.
    w.cache = config.cache_mb << 20;
    if (config.cards.dirs.empty()) {
        const double h = std::max(2.0, std::ceil(config.scene.card_height.hi));
        const double per_card = h * h * kMaxCardAspect * 4 / (1.0 - 0.75 * 0.75);
        w.cache =
            std::min<int64_t>(w.cache, static_cast<int64_t>(per_card * config.cards.builtin_count));
    }
    // A directory's image count is unknown before listing it; the built-in set is the usual case
    // and a fair floor.
    w.playmats =
        static_cast<int64_t>(kBuiltinPlaymats * static_cast<double>(px) * 3 * kPlaymatAreaFactor);
    return w;
}

void check_working_set(const WorkingSet& w, const Config& config, int threads, int ranks_on_node,
                       int64_t available_bytes, const std::string& source) {
    if (available_bytes <= 0) return;
    const int ranks = std::max(1, ranks_on_node);
    const double need = static_cast<double>(w.total()) * ranks;
    if (need <= static_cast<double>(available_bytes)) return;
    if (source.rfind("MemAvailable", 0) == 0 && need < static_cast<double>(1ll << 30)) return;
    const std::string per_rank = ranks > 1 ? " per rank x " + std::to_string(ranks) +
                                                 " ranks on this node = " + byte_size_text(need)
                                           : "";
    throw ConfigError("not enough memory: a " + std::to_string(config.frame.width) + "x" +
                      std::to_string(config.frame.height) + " frame with " +
                      std::to_string(threads) + " thread(s) needs about " +
                      byte_size_text(static_cast<double>(w.total())) + per_rank + " (frames " +
                      byte_size_text(static_cast<double>(w.frames)) + ", round buffers " +
                      byte_size_text(static_cast<double>(w.rounds)) + ", cache_mb " +
                      byte_size_text(static_cast<double>(w.cache)) + ", playmats " +
                      byte_size_text(static_cast<double>(w.playmats)) + "), but only " +
                      byte_size_text(static_cast<double>(available_bytes)) + " is available (" +
                      source + "); lower frame.width/frame.height, threads or cache_mb");
}

}  // namespace cardsynth
