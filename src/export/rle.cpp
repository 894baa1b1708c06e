#include "export/rle.h"

#include <opencv2/core.hpp>

namespace cardsynth {

std::vector<uint32_t> slot_runs(const cv::Mat& slots, uint8_t value, const cv::Rect& roi) {
    // Transposed, the ROI's column-major order is its memory order.
    thread_local cv::Mat columns;
    cv::transpose(slots(roi), columns);
    const uint64_t h = static_cast<uint64_t>(slots.rows);
    const uint64_t y0 = static_cast<uint64_t>(roi.y), y1 = static_cast<uint64_t>(roi.br().y);
    std::vector<uint32_t> runs;
    uint64_t last = 0;  // where the current run began
    bool inside = false;
    const auto flip = [&](uint64_t at) {
        runs.push_back(static_cast<uint32_t>(at - last));
        last = at;
        inside = !inside;
    };
    for (int c = 0; c < columns.rows; ++c) {
        const uint64_t column = static_cast<uint64_t>(roi.x + c) * h;
        // Outside the ROI every pixel is background.
        if (inside && y0 > 0) flip(column);
        const uint8_t* p = columns.ptr<uint8_t>(c);
        for (int r = 0; r < columns.cols; ++r)
            if ((p[r] == value) != inside) flip(column + y0 + static_cast<uint64_t>(r));
        if (inside && y1 < h) flip(column + y1);
    }
    if (inside && roi.br().x < slots.cols) flip(static_cast<uint64_t>(roi.br().x) * h);
    runs.push_back(static_cast<uint32_t>(slots.total() - last));
    return runs;
}

int64_t run_area(const std::vector<uint32_t>& counts) {
    int64_t area = 0;
    for (size_t k = 1; k < counts.size(); k += 2) area += counts[k];
    return area;
}

std::string rle_string(const std::vector<uint32_t>& counts) {
    std::string s;
    for (size_t i = 0; i < counts.size(); ++i) {
        // Signed: a difference can be negative, and its shifts must keep the sign.
        int64_t x = counts[i];
        if (i > 2) x -= counts[i - 2];
        bool more = true;
        while (more) {
            int64_t c = x & 0x1f;
            x >>= 5;
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            s.push_back(static_cast<char>(c + 48));
        }
    }
    return s;
}

}  // namespace cardsynth
