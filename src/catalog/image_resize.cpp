#include "catalog/image_resize.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace cardsynth {

void resize_image(const cv::Mat& src, cv::Mat& dst, cv::Size size) {
    cv::Mat source = src, boxed;
    // The integer part of the smaller shrink factor, so that neither side goes below `size`.
    const int k = std::min(src.rows / std::max(1, size.height), src.cols / std::max(1, size.width));
    if (k >= 2) {
        cv::resize(src, boxed, cv::Size(src.cols / k, src.rows / k), 0, 0, cv::INTER_AREA);
        source = boxed;
    }
    cv::resize(source, dst, size, 0, 0, cv::INTER_LINEAR);
}

}  // namespace cardsynth
