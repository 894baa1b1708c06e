// The few CUDA runtime calls the CPU side needs (device count, names, memory). Implemented in
// gpu_runtime.cu when the CUDA backend is built; system.cpp reports "not built" otherwise.
#pragma once

#include <string>
#include <vector>

#include "system/system.h"

namespace cardsynth::gpu {

// Fills the GPUs the CUDA runtime sees; returns false with `why` set when it cannot.
bool list_devices(std::vector<GpuInfo>& out, std::string& why);

}  // namespace cardsynth::gpu
