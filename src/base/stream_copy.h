// A copy whose destination is not read again soon (a frame handed to another process or to the
// caller's large array): its stores go past the caches, so the destination's lines are not first
// read from memory and the caches keep what the next image needs.
#pragma once

#include <cstddef>

namespace cardsynth {

// Copies n bytes from src to dst (not overlapping) with non-temporal stores where the processor
// has them (x86-64), as memcpy elsewhere; the bytes are memcpy's and visible to other threads
// once it returns.
void stream_copy(const void* src, void* dst, size_t n);

}  // namespace cardsynth
