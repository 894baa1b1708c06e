#include "system/system.h"
#include "base/text.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace cardsynth {
namespace {

// CPUs in this process's affinity mask. The mask is sized for the kernel's CPU count, since a
// fixed cpu_set_t holds only 1024 CPUs and sched_getaffinity fails on larger machines.
int affinity_cores() {
    for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 2) {
        cpu_set_t* set = CPU_ALLOC(ncpu);
        if (set == nullptr) return 1;
        const size_t bytes = CPU_ALLOC_SIZE(ncpu);
        CPU_ZERO_S(bytes, set);
        if (sched_getaffinity(0, bytes, set) == 0) {
            const int count = CPU_COUNT_S(bytes, set);
            CPU_FREE(set);
            return std::max(1, count);
        }
        const int err = errno;
        CPU_FREE(set);
        if (err != EINVAL) break;
    }
    return 1;
}

bool read_first_line(const std::string& path, std::string& line) {
    std::ifstream in(path);
    return in && std::getline(in, line);
}

bool parse_int64(const std::string& text, long long& value) {
    if (text.empty()) return false;
    char* end = nullptr;
    errno = 0;
    value = std::strtoll(text.c_str(), &end, 10);
    return errno == 0 && end != text.c_str() && *end == '\0';
}

int cores_from_quota(long long quota, long long period) {
    if (quota <= 0 || period <= 0) return 0;
    return static_cast<int>((quota + period - 1) / period);
}

// The cgroup path of this process for a v1 controller ("4:cpu,cpuacct:/path") or for v2
// ("0::/path"); `controller` "" selects the v2 line.
bool cgroup_path(const std::string& controller, std::string& path) {
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        const size_t first = line.find(':');
        const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        bool match = false;
        if (controller.empty()) {
            match = line.compare(0, first, "0") == 0 && controllers.empty();
        } else {
            std::stringstream list(controllers);
            std::string name;
            while (std::getline(list, name, ','))
                if (name == controller) match = true;
        }
        if (match) {
            path = line.substr(second + 1);
            return true;
        }
    }
    return false;
}

// The directories that may hold this process's limits, innermost first: its own cgroup and each
// ancestor under `mount`, then `mount` itself (inside a container the cgroup namespace makes
// the container's cgroup the root). A batch system may set the quota on a job's cgroup and run
// the step in a child, so every level counts.
std::vector<std::string> cgroup_dirs(const std::string& mount, const std::string& controller) {
    std::vector<std::string> dirs;
    std::string path;
    if (cgroup_path(controller, path)) {
        while (!path.empty() && path != "/") {
            dirs.push_back(mount + path);
            path = path.substr(0, path.find_last_of('/'));
        }
    }
    dirs.push_back(mount);
    return dirs;
}

// The tightest of several limits in cores, 0 meaning none.
void tighten(int& limit, int cores) {
    if (cores > 0) limit = limit > 0 ? std::min(limit, cores) : cores;
}

// Cores granted by cgroup v2 cpu.max along this process's cgroup; 0 when unlimited or unknown.
int cgroup_v2_cores() {
    int limit = 0;
    for (const std::string& dir : cgroup_dirs("/sys/fs/cgroup", "")) {
        std::string line;
        if (read_first_line(dir + "/cpu.max", line)) tighten(limit, cores_from_cpu_max(line));
    }
    return limit;
}

// Cores granted by the cgroup v1 CFS quota along this process's cgroup; 0 when unlimited or
// unknown. The cpu controller is mounted alone or together with cpuacct.
int cgroup_v1_cores() {
    int limit = 0;
    for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
        for (const std::string& dir : cgroup_dirs(mount, "cpu")) {
            std::string quota_text, period_text;
            long long quota = 0, period = 0;
            if (read_first_line(dir + "/cpu.cfs_quota_us", quota_text) &&
                read_first_line(dir + "/cpu.cfs_period_us", period_text) &&
                parse_int64(quota_text, quota) && parse_int64(period_text, period))
                tighten(limit, cores_from_quota(quota, period));
        }
    }
    return limit;
}

// A positive thread count from OMP_NUM_THREADS, 0 otherwise. OpenMP allows a list for nested
// levels ("8,2"); the first entry is the count of the outer level, the one we use.
int omp_env_threads(const std::string& omp_env) {
    const std::string first = trim(omp_env.substr(0, omp_env.find(',')), " \t");
    if (first.empty()) return 0;
    long long value = 0;
    if (!parse_int64(first, value) || value <= 0) return 0;
    // Absurd counts are kept (clamped to an int) so that the thread cap reports them.
    return static_cast<int>(std::min<long long>(value, std::numeric_limits<int>::max()));
}

}  // namespace

int cores_from_cpu_max(const std::string& cpu_max_line) {
    std::istringstream in(cpu_max_line);
    std::string quota_text, period_text, rest;
    if (!(in >> quota_text >> period_text) || (in >> rest)) return 0;
    long long quota = 0, period = 0;
    if (quota_text == "max" || !parse_int64(quota_text, quota) || !parse_int64(period_text, period))
        return 0;
    return cores_from_quota(quota, period);
}

int available_cores() {
    int cores = affinity_cores();
    // A container's quota can be far below its visible CPUs; threads beyond it only contend.
    for (int quota : {cgroup_v2_cores(), cgroup_v1_cores()})
        if (quota > 0) cores = std::min(cores, quota);
    return std::max(1, cores);
}

std::vector<uint64_t> affinity_mask() {
    std::vector<uint64_t> mask(CPU_SETSIZE / 64, 0);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) mask[c / 64] |= 1ull << (c % 64);
    return mask;
}

int mask_cores(const std::vector<uint64_t>& mask) {
    int n = 0;
    for (uint64_t w : mask) n += __builtin_popcountll(w);
    return n;
}

int node_cores(const std::vector<uint64_t>& node_mask, const std::vector<uint64_t>& my_mask,
               int my_cores, int ranks_on_node) {
    int node = mask_cores(node_mask);
    const int own = mask_cores(my_mask);
    if (own > 0 && my_cores < own) node = std::min(node, my_cores * ranks_on_node);
    return std::max(1, node);
}

int conservative_threads(int cores) {
    if (cores >= 96) return std::min(16, cores / 8);
    if (cores >= 32) return std::min(12, cores / 4);
    if (cores >= 16) return std::min(8, cores / 2);
    return std::max(4, cores / 2);
}

int choose_threads(const ThreadSetting& setting, int node_cores, int ranks_on_node,
                   const std::string& omp_env) {
    const int share = std::max(1, node_cores / std::max(1, ranks_on_node));
    switch (setting.mode) {
        case ThreadMode::Fixed:
            return std::max(1, setting.count);
        case ThreadMode::Conservative:
            return conservative_threads(share);
        case ThreadMode::Auto:
            break;
    }
    const int from_env = omp_env_threads(omp_env);
    return from_env > 0 ? from_env : share;
}

int thread_cap(int node_cores, int ranks_on_node) {
    const int share = std::max(1, node_cores / std::max(1, ranks_on_node));
    return std::min(kMaxThreads, kThreadsPerCoreCap * share);
}

int64_t memory_limit_from_cgroup(const std::string& text) {
    const std::string value = trim(text);
    long long bytes = 0;
    if (value == "max" || !parse_int64(value, bytes) || bytes <= 0) return 0;
    // v1 reports "unlimited" as LONG_MAX rounded down to a page.
    if (bytes >= (1ll << 60)) return 0;
    return bytes;
}

int64_t mem_available_from_meminfo(const std::string& meminfo) {
    std::istringstream in(meminfo);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, 13, "MemAvailable:") != 0) continue;
        std::istringstream fields(line.substr(13));
        long long kib = 0;
        if (fields >> kib && kib > 0) return static_cast<int64_t>(kib) * 1024;  // always kB
        return 0;
    }
    return 0;
}

int64_t available_memory_bytes(std::string& source) {
    if (const char* fake = std::getenv("CARDSYNTH_TEST_MEMORY_BYTES")) {
        long long bytes = 0;
        if (parse_int64(trim(fake), bytes) && bytes > 0) {
            source = "CARDSYNTH_TEST_MEMORY_BYTES";
            return bytes;
        }
    }
    int64_t limit = 0;
    source.clear();
    const auto consider = [&](int64_t bytes, const std::string& where) {
        if (bytes > 0 && (limit == 0 || bytes < limit)) limit = bytes, source = where;
    };
    for (const std::string& dir : cgroup_dirs("/sys/fs/cgroup", "")) {
        std::string line;
        if (read_first_line(dir + "/memory.max", line))
            consider(memory_limit_from_cgroup(line), "the cgroup limit " + dir + "/memory.max");
    }
    for (const std::string& dir : cgroup_dirs("/sys/fs/cgroup/memory", "memory")) {
        std::string line;
        if (read_first_line(dir + "/memory.limit_in_bytes", line))
            consider(memory_limit_from_cgroup(line),
                     "the cgroup limit " + dir + "/memory.limit_in_bytes");
    }
    std::ifstream meminfo("/proc/meminfo");
    std::ostringstream text;
    text << meminfo.rdbuf();
    consider(mem_available_from_meminfo(text.str()), "MemAvailable in /proc/meminfo");
    return limit;
}

std::string gpu_line(const GpuProbe& probe) {
    if (probe.gpus.empty()) return "[system] No GPU detected, using CPU only";
    std::string names;
    for (const GpuInfo& gpu : probe.gpus) {
        if (!names.empty()) names += ", ";
        names += gpu.name;
    }
    return "[system] Detected " + std::to_string(probe.gpus.size()) + " GPU(s): " + names;
}

std::string cores_line(int cores) {
    return "[system] Available CPU cores: " + std::to_string(cores);
}

}  // namespace cardsynth
