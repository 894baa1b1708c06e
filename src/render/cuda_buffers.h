// Device and pinned host memory owned like std::vector's storage, and the one check that turns a
// CUDA return code into a cardsynth::Error naming the call. Nothing above this layer frees CUDA
// memory by hand or reads a cudaError_t.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "base/error.h"

namespace cardsynth {

inline void check_cuda(cudaError_t err, const char* call) {
    if (err != cudaSuccess)
        throw Error(std::string("CUDA: ") + call + " failed: " + cudaGetErrorString(err));
}
#define CS_CUDA(call) ::cardsynth::check_cuda((call), #call)

// Device memory (cudaMalloc) and page-locked host memory (cudaHostAlloc): the only host memory
// an async copy overlaps with other work.
struct DeviceMemory {
    static constexpr const char* kAlloc = "cudaMalloc";
    static constexpr const char* kFree = "cudaFree";
    static cudaError_t alloc(void** p, size_t n) { return cudaMalloc(p, n); }
    static cudaError_t free(void* p) { return cudaFree(p); }
};
struct PinnedMemory {
    static constexpr const char* kAlloc = "cudaHostAlloc";
    static constexpr const char* kFree = "cudaFreeHost";
    static cudaError_t alloc(void** p, size_t n) {
        return cudaHostAlloc(p, n, cudaHostAllocDefault);
    }
    static cudaError_t free(void* p) { return cudaFreeHost(p); }
};

// A block of `Kind` memory that only grows (reserve). Growing frees the old block first, so the
// caller must know that no stream still uses it. Destruction cannot report a failed free: the
// caller could do nothing about it, and a destructor must not throw.
template <typename Kind>
class CudaBuffer {
  public:
    CudaBuffer() = default;
    CudaBuffer(CudaBuffer&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    CudaBuffer& operator=(CudaBuffer&& o) noexcept {
        if (this != &o) {
            release();
            ptr_ = std::exchange(o.ptr_, nullptr), size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    CudaBuffer(const CudaBuffer&) = delete;
    CudaBuffer& operator=(const CudaBuffer&) = delete;
    ~CudaBuffer() { release(); }

    void reserve(size_t bytes) {
        if (bytes <= size_) return;
        size_ = 0;
        if (ptr_) check_cuda(Kind::free(std::exchange(ptr_, nullptr)), Kind::kFree);
        void* p = nullptr;
        check_cuda(Kind::alloc(&p, bytes), Kind::kAlloc);
        ptr_ = p, size_ = bytes;
    }
    // reserve() with headroom, for buffers sized by each sub-batch: growing frees and
    // allocates, and cudaFree waits for the whole device, so it should happen a few times, not
    // whenever a sub-batch is a little larger than every one before it.
    void grow(size_t bytes) {
        if (bytes <= size_) return;
        constexpr size_t kGranule = size_t{1} << 20;
        const size_t want = std::max(bytes, size_ + size_ / 2);
        reserve((want + kGranule - 1) / kGranule * kGranule);
    }
    void release() noexcept {
        if (ptr_) (void)Kind::free(ptr_);
        ptr_ = nullptr, size_ = 0;
    }
    uint8_t* bytes() const { return static_cast<uint8_t*>(ptr_); }
    size_t size() const { return size_; }

  private:
    void* ptr_ = nullptr;
    size_t size_ = 0;
};

using DeviceBuffer = CudaBuffer<DeviceMemory>;
using PinnedBuffer = CudaBuffer<PinnedMemory>;

}  // namespace cardsynth
