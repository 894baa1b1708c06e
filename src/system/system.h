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

// The most threads a rank runs: 4 x its share of the node's cores, at most kMaxThreads. More only
// contend for the same cores, and tens of thousands make thread creation fail inside OpenMP.
constexpr int kMaxThreads = 1024;
constexpr int kThreadsPerCoreCap = 4;
int thread_cap(int node_cores, int ranks_on_node);

// Memory this process may use, in bytes: the tightest cgroup limit along its cgroup (v2
// memory.max, v1 memory.limit_in_bytes) and the node's MemAvailable, whichever is lower; 0 when
// neither is known. `source` says where the number came from. For tests only, the environment
// variable CARDSYNTH_TEST_MEMORY_BYTES replaces the measurement.
int64_t available_memory_bytes(std::string& source);
// A cgroup memory limit file's content ("max", "8589934592"); 0 = no limit. v1 writes "no limit"
// as a huge number near INT64_MAX, which counts as none too.
int64_t memory_limit_from_cgroup(const std::string& text);
// MemAvailable of /proc/meminfo text, in bytes; 0 when absent.
int64_t mem_available_from_meminfo(const std::string& meminfo);

GpuProbe probe_gpus();

// "[system] Detected N GPU(s): NAME" or "[system] No GPU detected, using CPU only".
std::string gpu_line(const GpuProbe& probe);
// "[system] Available CPU cores: N".
std::string cores_line(int cores);

}  // namespace cardsynth
