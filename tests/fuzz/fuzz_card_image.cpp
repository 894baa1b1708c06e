// Fuzzes card image loading: the header probe on the raw bytes, then the file-based check and
// full decode. A broken image must come back as a reason (check) or an InputError (load); and a
// file that the check accepts must then load, at the size the check reported, as RGBA8.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "catalog/card_image.h"
#include "catalog/image_probe.h"

namespace {

// Small enough that a declared size the check lets through decodes in well under a second.
constexpr int64_t kMaxPixels = 4000000;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_card_image: %s\n", what.c_str());
    std::abort();
}

// One file per process, rewritten for every input, so that parallel fuzzing jobs do not clash.
const std::string& scratch_path() {
    static const std::string path =
        "/tmp/cardsynth-fuzz-card-" + std::to_string(static_cast<long>(::getpid())) + ".img";
    return path;
}

void write_scratch(const uint8_t* data, size_t size) {
    FILE* file = std::fopen(scratch_path().c_str(), "wb");
    if (!file) fail("cannot write " + scratch_path());
    if (size > 0 && std::fwrite(data, 1, size, file) != size) fail("short write");
    if (std::fclose(file) != 0) fail("cannot close " + scratch_path());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    cardsynth::ImageHeader header;
    std::string why;
    const bool known = cardsynth::probe_image_header(data, size, header, why);
    if (known != why.empty()) fail("probe result and reason disagree: '" + why + "'");
    if (known &&
        (header.format == cardsynth::ImageFormat::Unknown || header.width < 0 || header.height < 0))
        fail("probe accepted a header with no format or a negative size");

    write_scratch(data, size);
    int width = -1, height = -1;
    const std::string reason =
        cardsynth::check_card_file(scratch_path(), kMaxPixels, width, height);
    try {
        const cv::Mat rgba = cardsynth::load_card_rgba(scratch_path(), kMaxPixels);
        if (!reason.empty()) fail("loaded a file the check refused: " + reason);
        if (rgba.type() != CV_8UC4 || rgba.cols != width || rgba.rows != height)
            fail("loaded " + std::to_string(rgba.cols) + "x" + std::to_string(rgba.rows) +
                 " type " + std::to_string(rgba.type()) + ", the check said " +
                 std::to_string(width) + "x" + std::to_string(height));
        if (int64_t(width) * height > kMaxPixels) fail("decoded more pixels than max_pixels");
    } catch (const cardsynth::InputError& e) {
        if (reason.empty())
            fail(std::string("the check accepted a file that fails to load: ") + e.what());
    }
    return 0;
}
