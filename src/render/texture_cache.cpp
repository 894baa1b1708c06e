#include "render/texture_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/fresh_image.h"
#include "catalog/image_resize.h"
#include "render/kernels/geometry.h"

namespace cardsynth {

namespace {

// Premultiplied before scaling, so transparent pixels lend no colour to their neighbours. In
// place, a pixel at a time as one 32-bit word: R and B multiplied together in its two 16-bit
// halves, G apart, each divided by 255 exactly (div255) without a carry between the halves.
__attribute__((target_clones("avx2", "default"))) void premultiply_pixels(uint32_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const uint32_t v = p[i], a = v >> 24;
        uint32_t rb = (v & 0x00FF00FFu) * a + 0x00800080u;
        rb = ((rb + ((rb >> 8) & 0x00FF00FFu)) >> 8) & 0x00FF00FFu;
        uint32_t g = ((v >> 8) & 0xFFu) * a + 0x80u;
        g = ((g + (g >> 8)) >> 8) & 0xFFu;
        p[i] = rb | (g << 8) | (a << 24);
    }
}

// Zeroes the `pad` rows and columns around an image (its transparent border).
void clear_border(cv::Mat& image, int pad) {
    const size_t row = static_cast<size_t>(image.cols) * image.elemSize();
    const size_t side = static_cast<size_t>(pad) * image.elemSize();
    for (int y = 0; y < image.rows; ++y) {
        uint8_t* p = image.ptr<uint8_t>(y);
        if (y < pad || y >= image.rows - pad) {
            std::memset(p, 0, row);
        } else {
            std::memset(p, 0, side);
            std::memset(p + row - side, 0, side);
        }
    }
}

void premultiply(cv::Mat& rgba) {
    CV_Assert(rgba.type() == CV_8UC4 && !rgba.empty());
    for (int y = 0; y < rgba.rows; ++y)
        premultiply_pixels(rgba.ptr<uint32_t>(y), static_cast<size_t>(rgba.cols));
}

// `corner` if the RGBA image is opaque everywhere but in the corner squares of that size,
// else -1.
int opaque_corner(const cv::Mat& rgba, int corner) {
    for (int y = 0; y < rgba.rows; ++y) {
        const bool edge_row = y < corner || y >= rgba.rows - corner;
        const int x0 = edge_row ? corner : 0, x1 = edge_row ? rgba.cols - corner : rgba.cols;
        const uint8_t* p = rgba.ptr<uint8_t>(y);
        for (int x = x0; x < x1; ++x)
            if (p[x * 4 + 3] != 255) return -1;
    }
    return corner;
}

CardTexture texture_from_premultiplied(const cv::Mat& premul, int height, float corner_fraction) {
    const int width = std::max(
        1, static_cast<int>(std::lround(static_cast<double>(premul.cols) * height / premul.rows)));
    // Scaled straight into the inside of the bordered texture.
    CardTexture t;
    t.rgba = fresh_image(height + 2 * kTexturePad, width + 2 * kTexturePad, CV_8UC4);
    clear_border(t.rgba, kTexturePad);
    cv::Mat scaled = t.rgba(cv::Rect(kTexturePad, kTexturePad, width, height));
    resize_image(premul, scaled, cv::Size(width, height));
    CV_Assert(scaled.data == t.rgba.data + t.rgba.step[0] * kTexturePad + 4 * kTexturePad);
    // Corners at the final resolution, so that their edge ramp is one texture pixel wide.
    const float r = corner_fraction * static_cast<float>(width);
    if (r > 0) {
        const int ri = static_cast<int>(std::ceil(r)) + 1;
        for (int y = 0; y < height; ++y) {
            if (y >= ri && y < height - ri) continue;
            uint8_t* p = scaled.ptr<uint8_t>(y);
            for (int x = 0; x < width; ++x) {
                if (x >= ri && x < width - ri) continue;
                const float cov = corner_coverage(x + 0.5f, y + 0.5f, static_cast<float>(width),
                                                  static_cast<float>(height), r);
                if (cov >= 1.0f) continue;
                const uint32_t k = static_cast<uint32_t>(cov * 256.0f + 0.5f);
                for (int c = 0; c < 4; ++c)
                    p[x * 4 + c] = static_cast<uint8_t>((p[x * 4 + c] * k + 128) >> 8);
            }
        }
    }
    t.inner_width = width;
    t.inner_height = height;
    t.opaque_corner = opaque_corner(scaled, r > 0 ? static_cast<int>(std::ceil(r)) + 1 : 0);
    return t;
}

}  // namespace

TextureCache::TextureCache(const Catalog& catalog, double min_height, double max_height,
                           size_t budget_bytes, float corner_fraction)
    : catalog_(catalog), budget_(budget_bytes), corner_fraction_(corner_fraction) {
    double h = std::ceil(std::max(max_height, 2.0));
    heights_.push_back(static_cast<int>(h));
    while (h * 0.75 >= std::max(min_height, 8.0)) {
        h = std::ceil(h * 0.75);
        heights_.push_back(static_cast<int>(h));
    }
}

int TextureCache::level_for_height(double on_screen_height) const {
    int level = 0;
    for (int l = 0; l < levels(); ++l)
        if (heights_[l] >= on_screen_height) level = l;
    return level;
}

std::shared_ptr<const TextureCache::Levels> TextureCache::make(int32_t id) const {
    cv::Mat premul = catalog_.load_rgba(id, heights_.front());  // a fresh image: ours to change
    premultiply(premul);
    auto levels = std::make_shared<Levels>();
    for (int h : heights_)
        levels->push_back(
            std::make_shared<CardTexture>(texture_from_premultiplied(premul, h, corner_fraction_)));
    return levels;
}

TexturePtr TextureCache::get(int32_t id, int level) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = entries_.find(id);
        if (it != entries_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.pos);
            return (*it->second.levels)[level];
        }
        ++misses_;
    }
    // Decode outside the lock: two threads may make the same card; the first to insert wins.
    auto levels = make(id);
    size_t bytes = 0;
    for (const auto& t : *levels) bytes += t->rgba.total() * t->rgba.elemSize();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(id);
    if (it != entries_.end()) return (*it->second.levels)[level];
    lru_.push_front(id);
    entries_.emplace(id, Entry{levels, lru_.begin(), bytes});
    used_ += bytes;
    evict_locked();
    return (*levels)[level];
}

// Evicts whole cards, least recent first; callers hold shared pointers, so an evicted texture
// in use survives until they are done.
void TextureCache::evict_locked() {
    while (used_ > budget_ && lru_.size() > 1) {
        const int32_t victim = lru_.back();
        lru_.pop_back();
        auto v = entries_.find(victim);
        used_ -= v->second.bytes;
        entries_.erase(v);
    }
}

size_t TextureCache::bytes_used() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return used_;
}

uint64_t TextureCache::misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
}

}  // namespace cardsynth
