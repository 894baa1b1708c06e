// The device copies of card textures and background levels. Textures are the CPU's TextureCache
// entries byte for byte, uploaded on first use and evicted least recently used beyond a byte
// budget, but never while a sub-batch in flight may sample them; backgrounds are few and stay.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <list>
#include <unordered_map>

#include "render/cuda_buffers.h"
#include "render/cuda_plan.h"
#include "render/texture_cache.h"
#include "scene/background.h"

namespace cardsynth {

class DeviceTextureCache {
  public:
    explicit DeviceTextureCache(size_t budget_bytes) : budget_(budget_bytes) {}

    // Starts sub-batch `n` (increasing): textures used by n and n - 1 are in flight.
    void begin_sub_batch(uint64_t n) { sub_batch_ = n; }
    // Whether `key` is on the device; if so it is marked used by the current sub-batch.
    bool touch(int64_t key);
    // Uploads `shape.width` x `shape.height` tight RGBA rows at `staged` as `key` on `stream`,
    // evicting idle textures beyond the budget first; the budget may be exceeded while
    // everything over it is in flight. `staged` should be page-locked, so that the copy runs
    // behind the host instead of blocking it, and must stay untouched until `stream` has copied it.
    void upload(int64_t key, TextureShape shape, const uint8_t* staged, cudaStream_t stream);

    // A texture that touch() found or upload() made.
    const uint8_t* data(int64_t key) const { return entries_.at(key).buffer.bytes(); }
    TextureShape shape(int64_t key) const { return entries_.at(key).shape; }

  private:
    struct Entry {
        DeviceBuffer buffer;
        TextureShape shape;
        uint64_t stamp = 0;  // the last sub-batch that samples it
        std::list<int64_t>::iterator pos;
    };
    void evict_for(size_t bytes);

    size_t budget_;
    size_t used_ = 0;
    uint64_t sub_batch_ = 0;
    std::unordered_map<int64_t, Entry> entries_;
    std::list<int64_t> lru_;  // most recent first
};

class DeviceBackgrounds {
  public:
    explicit DeviceBackgrounds(const Backgrounds& host) : host_(host) {}
    // Level `l` of background `b`, uploaded on `stream` the first time (from pageable memory,
    // which blocks the host; each level is uploaded once per renderer).
    const uint8_t* get(int b, int l, cudaStream_t stream);

  private:
    const Backgrounds& host_;
    std::unordered_map<int64_t, DeviceBuffer> levels_;
};

}  // namespace cardsynth
