// A new image whose pages are mapped in one call instead of one fault per page as they are first
// written. On a virtual machine every page fault is a costly exit, and images here are made by
// the hundred (card levels) or are megabytes each (playmats). Best effort: a kernel without
// MADV_POPULATE_WRITE simply faults the pages in as before.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include <opencv2/core.hpp>

namespace cardsynth {

inline void map_pages(const cv::Mat& image) {
#ifdef MADV_POPULATE_WRITE
    static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(image.datastart) + page - 1) & ~(page - 1);
    const uintptr_t end = reinterpret_cast<uintptr_t>(image.dataend) & ~(page - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
    (void)image;
#endif
}

// rows x cols of `type`, uninitialised, its pages mapped.
inline cv::Mat fresh_image(int rows, int cols, int type) {
    cv::Mat image(rows, cols, type);
    map_pages(image);
    return image;
}

}  // namespace cardsynth
