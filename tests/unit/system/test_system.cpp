// Core detection, the legacy scripts' thread table, the thread policies and the [system] report
// lines.
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "system/system.h"

using namespace cardsynth;

TEST_CASE("conservative threads follow the legacy scripts' table row by row", "[system]") {
    CHECK(conservative_threads(120) == 15);  // 96+: min(16, c/8)
    CHECK(conservative_threads(256) == 16);
    CHECK(conservative_threads(64) == 12);  // 32-95: min(12, c/4)
    CHECK(conservative_threads(40) == 10);
    CHECK(conservative_threads(16) == 8);  // 16-31: min(8, c/2)
    CHECK(conservative_threads(8) == 4);   // fewer: max(4, c/2)
    CHECK(conservative_threads(12) == 6);
    CHECK(conservative_threads(2) == 4);  // the legacy scripts' table keeps 4 even on 2 cores
    CHECK(conservative_threads(1) == 4);
}

TEST_CASE("conservative threads at the table's boundaries", "[system]") {
    CHECK(conservative_threads(96) == 12);  // min(16, 12)
    CHECK(conservative_threads(95) == 12);  // min(12, 23)
    CHECK(conservative_threads(32) == 8);   // min(12, 8)
    CHECK(conservative_threads(31) == 8);   // min(8, 15)
    CHECK(conservative_threads(15) == 7);   // max(4, 7)
}

TEST_CASE("auto threads split the node's cores between its ranks", "[system]") {
    const ThreadSetting automatic{ThreadMode::Auto, 0};
    CHECK(choose_threads(automatic, 16, 2, "") == 8);
    CHECK(choose_threads(automatic, 16, 1, "") == 16);
    CHECK(choose_threads(automatic, 16, 3, "") == 5);
    CHECK(choose_threads(automatic, 2, 4, "") == 1);  // never zero
    CHECK(choose_threads(automatic, 8, 0, "") == 8);  // a bad rank count is taken as one
}

TEST_CASE("auto threads honour a positive OMP_NUM_THREADS", "[system]") {
    const ThreadSetting automatic{ThreadMode::Auto, 0};
    CHECK(choose_threads(automatic, 16, 2, "6") == 6);
    CHECK(choose_threads(automatic, 16, 2, " 3 ") == 3);
    CHECK(choose_threads(automatic, 16, 2, "12,2") == 12);  // nested list: the outer level
    CHECK(choose_threads(automatic, 16, 2, "junk") == 8);
    CHECK(choose_threads(automatic, 16, 2, "6x") == 8);
    CHECK(choose_threads(automatic, 16, 2, "0") == 8);
    CHECK(choose_threads(automatic, 16, 2, "-4") == 8);
}

TEST_CASE("conservative and fixed thread policies", "[system]") {
    const ThreadSetting conservative{ThreadMode::Conservative, 0};
    CHECK(choose_threads(conservative, 120, 1, "") == 15);
    CHECK(choose_threads(conservative, 128, 2, "") == 12);  // 64 cores per rank
    CHECK(choose_threads(conservative, 16, 1, "6") == 8);   // the table, not OMP_NUM_THREADS
    const ThreadSetting fixed{ThreadMode::Fixed, 7};
    CHECK(choose_threads(fixed, 2, 4, "3") == 7);
}

TEST_CASE("cgroup v2 cpu.max lines give whole cores, rounded up", "[system]") {
    CHECK(cores_from_cpu_max("max 100000") == 0);
    CHECK(cores_from_cpu_max("150000 100000") == 2);
    CHECK(cores_from_cpu_max("100000 100000") == 1);
    CHECK(cores_from_cpu_max("50000 100000\n") == 1);
    CHECK(cores_from_cpu_max("800000 100000") == 8);
    CHECK(cores_from_cpu_max("") == 0);
    CHECK(cores_from_cpu_max("garbage") == 0);
    CHECK(cores_from_cpu_max("100000") == 0);
    CHECK(cores_from_cpu_max("100000 0") == 0);
    CHECK(cores_from_cpu_max("1x 100000") == 0);
    CHECK(cores_from_cpu_max("100000 100000 7") == 0);
}

TEST_CASE("available cores follow a restricted affinity mask", "[system]") {
    cpu_set_t original;
    CPU_ZERO(&original);
    REQUIRE(sched_getaffinity(0, sizeof(original), &original) == 0);
    const int before = available_cores();
    CHECK(before >= 1);
    CHECK(before <= CPU_COUNT(&original));

    int first = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; ++cpu)
        if (CPU_ISSET(cpu, &original)) first = cpu;
    REQUIRE(first >= 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    REQUIRE(sched_setaffinity(0, sizeof(one), &one) == 0);
    const int restricted = available_cores();
    REQUIRE(sched_setaffinity(0, sizeof(original), &original) == 0);
    CHECK(restricted == 1);
    CHECK(available_cores() == before);
}

TEST_CASE("the GPU and cores lines read as the seed printed them", "[system]") {
    GpuProbe none;
    CHECK(gpu_line(none) == "[system] No GPU detected, using CPU only");

    GpuProbe one;
    one.backend_built = true;
    one.gpus.push_back({"NVIDIA H100 80GB HBM3", 85520809984ULL});
    CHECK(gpu_line(one) == "[system] Detected 1 GPU(s): NVIDIA H100 80GB HBM3");

    GpuProbe two = one;
    two.gpus.push_back({"NVIDIA A100-SXM4-40GB", 42505273344ULL});
    CHECK(gpu_line(two) ==
          "[system] Detected 2 GPU(s): NVIDIA H100 80GB HBM3, NVIDIA A100-SXM4-40GB");

    CHECK(cores_line(16) == "[system] Available CPU cores: 16");
    CHECK(cores_line(120) == "[system] Available CPU cores: 120");
}

TEST_CASE("the GPU probe says why it found no GPU", "[system]") {
    const GpuProbe probe = probe_gpus();
    if (!probe.backend_built) {
        CHECK(probe.gpus.empty());
        CHECK(probe.note == "CUDA backend not built");
    }
    if (probe.gpus.empty()) {
        CHECK_FALSE(probe.note.empty());
        CHECK(gpu_line(probe) == "[system] No GPU detected, using CPU only");
    } else {
        for (const GpuInfo& gpu : probe.gpus) {
            CHECK_FALSE(gpu.name.empty());
            CHECK(gpu.memory_bytes > 0);
        }
        CHECK(gpu_line(probe).rfind("[system] Detected " + std::to_string(probe.gpus.size()) +
                                        " GPU(s): " + probe.gpus[0].name,
                                    0) == 0);
    }
}

TEST_CASE("node cores: the union of the ranks' masks, capped by a quota") {
    const std::vector<uint64_t> one_core{0x1}, two_cores{0x3}, four_cores{0xf};
    // Two ranks bound to one core each: the node has the two.
    CHECK(node_cores(two_cores, one_core, 1, 2) == 2);
    // No binding: every rank sees the whole mask.
    CHECK(node_cores(four_cores, four_cores, 4, 2) == 4);
    // A quota of 1.5 cores (rounded up to 2) on a 4-core mask caps 2 ranks at 4, 1 rank at 2.
    CHECK(node_cores(four_cores, four_cores, 2, 1) == 2);
    CHECK(node_cores(four_cores, four_cores, 2, 2) == 4);
    // An empty mask (affinity unknown) still gives one core.
    CHECK(node_cores({0}, {0}, 1, 1) == 1);
    CHECK(mask_cores({~0ull, 0x1}) == 65);
}

TEST_CASE("the thread cap is 4 x a rank's share of cores, at most 1024", "[system]") {
    CHECK(thread_cap(2, 1) == 8);
    CHECK(thread_cap(16, 2) == 32);
    CHECK(thread_cap(2, 4) == 4);  // a share below one core counts as one
    CHECK(thread_cap(1000, 1) == 1024);
    CHECK(thread_cap(8, 0) == 32);
}

TEST_CASE("absurd OMP_NUM_THREADS values reach the cap instead of being dropped", "[system]") {
    const ThreadSetting automatic{ThreadMode::Auto, 0};
    CHECK(choose_threads(automatic, 16, 2, "1000000") == 1000000);
    CHECK(choose_threads(automatic, 16, 2, "99999999999") == 2147483647);
}

TEST_CASE("cgroup memory limits and MemAvailable are parsed", "[system]") {
    CHECK(memory_limit_from_cgroup("max\n") == 0);
    CHECK(memory_limit_from_cgroup("8589934592\n") == 8589934592ll);
    CHECK(memory_limit_from_cgroup("9223372036854771712") == 0);  // v1 "no limit"
    CHECK(memory_limit_from_cgroup("junk") == 0);
    CHECK(mem_available_from_meminfo("MemTotal:       16000000 kB\n"
                                     "MemFree:         1000000 kB\n"
                                     "MemAvailable:    2000000 kB\n") == 2000000ll * 1024);
    CHECK(mem_available_from_meminfo("MemTotal: 1 kB\n") == 0);
}

TEST_CASE("CARDSYNTH_TEST_MEMORY_BYTES replaces the measurement", "[system]") {
    std::string source;
    ::setenv("CARDSYNTH_TEST_MEMORY_BYTES", "12345", 1);
    CHECK(available_memory_bytes(source) == 12345);
    CHECK(source == "CARDSYNTH_TEST_MEMORY_BYTES");
    ::unsetenv("CARDSYNTH_TEST_MEMORY_BYTES");
    CHECK(available_memory_bytes(source) > 0);  // /proc/meminfo at least
    CHECK(!source.empty());
}
