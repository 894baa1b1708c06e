// GPU detection, kept apart from system.cpp because it is the one place that depends on whether
// the CUDA backend was built: the rest of the program asks probe_gpus() and never checks.
#include "system/system.h"

#ifdef CARDSYNTH_HAVE_CUDA
#include "system/gpu_runtime.h"
#endif

namespace cardsynth {

GpuProbe probe_gpus() {
    GpuProbe probe;
#ifdef CARDSYNTH_HAVE_CUDA
    probe.backend_built = true;
    std::string why;
    if (!gpu::list_devices(probe.gpus, why)) {
        probe.gpus.clear();
        probe.note = why.empty() ? "the CUDA runtime reported no device" : why;
    }
#else
    probe.note = "CUDA backend not built";
#endif
    return probe;
}

}  // namespace cardsynth
