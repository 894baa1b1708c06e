// `cardsynth inspect`: what a dataset file holds: schema, counts, storage, completion, and the
// popularity report (the share of drawn cards that the 100 heaviest take, against the weights).
#pragma once

#include <string>
#include <vector>

namespace cardsynth {

// The report as lines of text; throws DatasetError naming the file when it cannot be read.
std::vector<std::string> inspect_dataset(const std::string& dataset);

}  // namespace cardsynth
