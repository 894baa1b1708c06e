// What this process may use: CPU cores (affinity mask and cgroup quota, not the machine's total),
// GPUs (through the CUDA runtime when the CUDA backend is built), and the thread count that each
// policy chooses from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"

namespace cardsynth {

struct GpuInfo {
    std::string name;
    size_t memory_bytes = 0;
};

struct GpuProbe {
    bool backend_built = false;  // false: the CUDA backend is not compiled in
    std::vector<GpuInfo> gpus;
    std::string note;  // why none was found, when none was
};

// Cores this process may run on: the affinity mask, capped by the cgroup (v2 cpu.max or v1
// cfs_quota/period) quota rounded up; at least 1.
int available_cores();
// This process's affinity mask as bits (core c is bit c % 64 of word c / 64), CPU_SETSIZE bits.
std::vector<uint64_t> affinity_mask();
// Cores set in a mask.
int mask_cores(const std::vector<uint64_t>& mask);
// The cores a node's ranks may use, from the OR of their affinity masks (mpirun may bind each rank
// to one core). A cgroup quota that leaves this rank fewer cores (`my_cores`) than its own mask
// (`my_mask`) caps the node too, at my_cores per rank. At least 1.
int node_cores(const std::vector<uint64_t>& node_mask, const std::vector<uint64_t>& my_mask,
               int my_cores, int ranks_on_node);
// Parses a cgroup v2 cpu.max line ("max 100000" or "150000 100000"); 0 = no limit.
int cores_from_cpu_max(const std::string& cpu_max_line);

// The legacy scripts' table: 96+ cores: min(16, c/8); 32-95: min(12, c/4); 16-31: min(8, c/2);
// fewer: max(4, c/2).
int conservative_threads(int cores);

// Threads for this rank. Auto: the node's cores divided by the ranks on the node (at least 1),
// unless OMP_NUM_THREADS (omp_env, "" when unset) gives a positive count. Conservative applies
// the legacy scripts' table to the per-rank share of cores. Fixed is the given count.
int choose_threads(const ThreadSetting& setting, int node_cores, int ranks_on_node,
                   const std::string& omp_env);

GpuProbe probe_gpus();

// "[system] Detected N GPU(s): NAME" or "[system] No GPU detected, using CPU only".
std::string gpu_line(const GpuProbe& probe);
// "[system] Available CPU cores: N".
std::string cores_line(int cores);

}  // namespace cardsynth
