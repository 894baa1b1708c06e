// Card textures, decoded once and kept pre-scaled at a few levels (none larger than the card's
// largest on-screen size) in a memory-bounded LRU cache shared by the render threads.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <opencv2/core.hpp>

#include "cardsynth/catalog.h"

namespace cardsynth {

// A texture level: RGBA8 with straight alpha, of height `levels[l]` and the card's aspect.
using TexturePtr = std::shared_ptr<const cv::Mat>;

class TextureCache {
public:
    // Levels are card heights in pixels, from the largest on-screen height down by 3/4 steps to
    // the smallest; a card of on-screen height h uses the smallest level >= h.
    TextureCache(const Catalog& catalog, double min_height, double max_height, size_t budget_bytes);

    int level_for_height(double on_screen_height) const;
    int level_height(int level) const { return heights_[level]; }
    int levels() const { return static_cast<int>(heights_.size()); }
    // The texture of card `id` at `level`; decoded and scaled on first use. Thread-safe.
    TexturePtr get(int32_t id, int level);

    size_t bytes_used() const;
    size_t budget() const { return budget_; }
    uint64_t misses() const { return misses_; }

private:
    TexturePtr make(int32_t id, int level);

    const Catalog& catalog_;
    std::vector<int> heights_;
    size_t budget_;
    mutable std::mutex mutex_;
    std::list<int64_t> lru_;  // most recent first
    struct Entry {
        TexturePtr texture;
        std::list<int64_t>::iterator pos;
        size_t bytes;
    };
    std::unordered_map<int64_t, Entry> entries_;
    size_t used_ = 0;
    uint64_t misses_ = 0;
};

}  // namespace cardsynth
