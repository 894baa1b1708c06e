#include "system/gpu_runtime.h"

#include <cuda_runtime.h>

namespace cardsynth::gpu {

bool list_devices(std::vector<GpuInfo>& out, std::string& why) {
    out.clear();
    int count = 0;
    // With no driver or no device this fails cleanly; the program then runs on the CPU.
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        why = cudaGetErrorString(err);
        cudaGetLastError();  // clear the error so that later runtime calls do not report it
        return false;
    }
    if (count <= 0) {
        why = "no CUDA device found";
        return false;
    }
    for (int device = 0; device < count; ++device) {
        cudaDeviceProp prop{};
        err = cudaGetDeviceProperties(&prop, device);
        if (err != cudaSuccess) {
            why = std::string("device ") + std::to_string(device) + ": " + cudaGetErrorString(err);
            cudaGetLastError();
            out.clear();
            return false;
        }
        GpuInfo info;
        info.name = prop.name;
        info.memory_bytes = prop.totalGlobalMem;
        out.push_back(info);
    }
    return true;
}

}  // namespace cardsynth::gpu
