// Card textures, decoded once and kept pre-scaled at a few levels (none larger than the card's
// largest on-screen size) in a memory-bounded LRU cache shared by the render threads. A texture
// is RGBA8 premultiplied by alpha, its rounded corners baked into the alpha, with a transparent
// border of kTexturePad pixels so that bilinear taps never leave it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <opencv2/core.hpp>

#include "catalog/catalog.h"

namespace cardsynth {

constexpr int kTexturePad = 2;

struct CardTexture {
    cv::Mat rgba;         // premultiplied, (inner_height + 2 pad) rows
    int inner_width = 0;  // the card's pixels, without the border
    int inner_height = 0;
    // Every texel of the inner rectangle is opaque except within `opaque_corner` texels of both
    // edges at a corner (the rounded corners); -1 when the card has transparent parts elsewhere.
    int opaque_corner = -1;
};
using TexturePtr = std::shared_ptr<const CardTexture>;

class TextureCache {
  public:
    // Level heights go from max_height down by factors of 3/4 while they stay above min_height;
    // a card drawn h pixels high uses the smallest level >= h (the largest level for larger h).
    // `corner_fraction`: rounded-corner radius over card width (cards.corner_radius).
    TextureCache(const Catalog& catalog, double min_height, double max_height, size_t budget_bytes,
                 float corner_fraction);

    int level_for_height(double on_screen_height) const;
    int level_height(int level) const { return heights_[level]; }
    int levels() const { return static_cast<int>(heights_.size()); }
    // Card `id` at `level`. On a miss the card is decoded once and every level is made and
    // cached together; least recently used cards are evicted beyond the budget. Thread-safe.
    TexturePtr get(int32_t id, int level);

    size_t bytes_used() const;
    size_t budget() const { return budget_; }
    uint64_t misses() const;

  private:
    using Levels = std::vector<TexturePtr>;
    std::shared_ptr<const Levels> make(int32_t id) const;

    const Catalog& catalog_;
    std::vector<int> heights_;
    size_t budget_;
    float corner_fraction_;
    mutable std::mutex mutex_;
    std::list<int32_t> lru_;  // most recent first
    struct Entry {
        std::shared_ptr<const Levels> levels;
        std::list<int32_t>::iterator pos;
        size_t bytes;
    };
    std::unordered_map<int32_t, Entry> entries_;
    size_t used_ = 0;
    void evict_locked();
    uint64_t misses_ = 0;
};

}  // namespace cardsynth
