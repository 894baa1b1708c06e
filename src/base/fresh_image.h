// A new image whose pages are mapped in one call instead of one fault per page as they are first
// written. On a virtual machine every page fault is a costly exit, and images here are made by
// the hundred (card levels) or are megabytes each (playmats). Best effort: a kernel without
// MADV_POPULATE_WRITE simply faults the pages in as before.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

namespace cardsynth {

inline void map_pages(void* data, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
    static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t first = reinterpret_cast<uintptr_t>(data);
    const uintptr_t begin = (first + page - 1) & ~(page - 1);
    const uintptr_t end = (first + bytes) & ~(page - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
    (void)data, (void)bytes;
#endif
}

inline void map_pages(const cv::Mat& image) {
    map_pages(const_cast<uchar*>(image.datastart),
              static_cast<size_t>(image.dataend - image.datastart));
}

// rows x cols of `type`, uninitialised, its pages mapped.
inline cv::Mat fresh_image(int rows, int cols, int type) {
    cv::Mat image(rows, cols, type);
    map_pages(image);
    return image;
}

}  // namespace cardsynth
