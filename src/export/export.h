// `cardsynth export`: a finished dataset file as training directories, in one of the formats of
// export/formats.h. Every input is checked before anything is written; then each image is
// exported on its own thread (its image file and its labels), and the files that list every
// image (data.yaml, the COCO JSON) are written at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cardsynth {

struct ExportOptions {
    std::string file;    // the dataset
    std::string format;  // a name of export_formats()
    std::string out;     // the directory
    std::string split = "train=0.9,val=0.1";
    std::string classes = "card";       // card | name
    std::optional<double> min_visible;  // unset: the file's scene.min_visible
    std::string threads = "auto";       // auto | N
    int jpeg_quality = 90;              // for raw frames only
    bool overwrite = false;
    bool quiet = false;
};

// Runs the export; returns the number of images written. Throws ConfigError or InputError (exit
// 2, nothing written) for bad options or input, Error when writing fails.
int64_t run_export(const ExportOptions& options);

}  // namespace cardsynth
