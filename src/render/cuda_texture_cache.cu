#include "render/cuda_texture_cache.h"

namespace cardsynth {

bool DeviceTextureCache::touch(int64_t key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    it->second.stamp = sub_batch_;
    lru_.splice(lru_.begin(), lru_, it->second.pos);
    return true;
}

void DeviceTextureCache::evict_for(size_t bytes) {
    while (used_ + bytes > budget_ && !lru_.empty()) {
        auto victim = entries_.find(lru_.back());
        // Sampled by this sub-batch or the one still running on the other stream.
        if (victim->second.stamp + 1 >= sub_batch_) break;
        // cudaFree waits for the device, so no kernel still reads the block.
        used_ -= victim->second.buffer.size();
        entries_.erase(victim);
        lru_.pop_back();
    }
}

void DeviceTextureCache::upload(int64_t key, TextureShape shape, const uint8_t* staged,
                                cudaStream_t stream) {
    const size_t bytes = static_cast<size_t>(shape.width) * 4 * shape.height;
    evict_for(bytes);
    Entry e;
    e.buffer.reserve(bytes);
    CS_CUDA(cudaMemcpyAsync(e.buffer.bytes(), staged, bytes, cudaMemcpyHostToDevice, stream));
    e.shape = shape;
    e.stamp = sub_batch_;
    lru_.push_front(key);
    e.pos = lru_.begin();
    used_ += bytes;
    entries_.emplace(key, std::move(e));
}

const uint8_t* DeviceBackgrounds::get(int b, int l, cudaStream_t stream) {
    const int64_t key = static_cast<int64_t>(b) * kBackgroundLevels + l;
    auto it = levels_.find(key);
    if (it != levels_.end()) return it->second.bytes();
    const cv::Mat& bg = host_.level(b, l);
    const size_t row = static_cast<size_t>(bg.cols) * 3;
    DeviceBuffer d;
    d.reserve(row * bg.rows);
    CS_CUDA(cudaMemcpy2DAsync(d.bytes(), row, bg.data, bg.step[0], row, bg.rows,
                              cudaMemcpyHostToDevice, stream));
    return levels_.emplace(key, std::move(d)).first->second.bytes();
}

}  // namespace cardsynth
