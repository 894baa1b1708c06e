#include "run/summary.h"

#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/text.h"

namespace cardsynth {
namespace {

struct Node {
    std::string host, gpu;
    int cores = 0, ranks = 0;
    std::vector<int> threads;
};

// Rank lines "host \t cores \t threads \t gpu line", grouped by host in order of first rank.
std::vector<Node> group_by_node(const std::vector<std::string>& lines) {
    std::vector<Node> nodes;
    for (const std::string& s : lines) {
        const size_t a = s.find('\t'), b = s.find('\t', a + 1), d = s.find('\t', b + 1);
        Node n{s.substr(0, a), s.substr(d + 1), std::stoi(s.substr(a + 1, b - a - 1)), 0, {}};
        auto it = std::find_if(nodes.begin(), nodes.end(),
                               [&](const Node& x) { return x.host == n.host; });
        if (it == nodes.end()) nodes.push_back(n), it = nodes.end() - 1;
        it->ranks++;
        it->threads.push_back(std::stoi(s.substr(b + 1, d - b - 1)));
    }
    return nodes;
}

double peak_rss_mb(const MpiContext& mpi) {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mb = ru.ru_maxrss / 1024.0;
    double rss_max = 0;
    check_mpi(MPI_Reduce(&rss_mb, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, mpi.comm()),
              "MPI_Reduce of the peak memory");
    return rss_max;
}

}  // namespace

void print_system(const MpiContext& mpi, int cores, int threads, const GpuProbe& gpus) {
    const std::string mine = mpi.host() + "\t" + std::to_string(cores) + "\t" +
                             std::to_string(threads) + "\t" + gpu_line(gpus);
    const auto all = mpi.gather_strings(mine);
    if (!mpi.root()) return;
    const std::vector<Node> nodes = group_by_node(all);
    for (const Node& n : nodes) {
        std::string t;
        for (size_t i = 0; i < n.threads.size(); ++i)
            t += (i ? "," : "") + std::to_string(n.threads[i]);
        if (nodes.size() == 1) {
            log::info(n.gpu);
            log::info(cores_line(n.cores));
            log::info("[system] " + n.host + ": " + std::to_string(n.ranks) +
                      " rank(s), threads per rank: " + t);
        } else {
            log::info("[system] " + n.host + ": " + n.gpu.substr(9) + "; " +
                      cores_line(n.cores).substr(9) + "; " + std::to_string(n.ranks) +
                      " rank(s), threads per rank: " + t);
        }
    }
}

void print_summary(const MpiContext& mpi, const RunTotals& totals, double wall) {
    const auto hosts = mpi.gather_strings(mpi.host());
    const auto busy_all = mpi.allgather(totals.busy);
    const auto mine_all = mpi.allgather(static_cast<double>(totals.made));
    const StageTimes& t = totals.times;
    double stage[5] = {t.sample, t.render, t.labels, t.encode, t.write};
    double stage_sum[5] = {0, 0, 0, 0, 0};
    check_mpi(MPI_Reduce(stage, stage_sum, 5, MPI_DOUBLE, MPI_SUM, 0, mpi.comm()),
              "MPI_Reduce of the stage times");
    const double rss_max = peak_rss_mb(mpi);
    if (!mpi.root()) return;
    log::info("[summary] rank  host                  images  images/s  busy s");
    double max_busy = 0;
    for (int r = 0; r < mpi.size(); ++r) {
        max_busy = std::max(max_busy, busy_all[r]);
        log::info(format("[summary] %4d  %-20.20s %7.0f  %8.1f  %6.1f", r, hosts[r].c_str(),
                         mine_all[r], busy_all[r] > 0 ? mine_all[r] / busy_all[r] : 0.0,
                         busy_all[r]));
    }
    const double made = static_cast<double>(totals.made_all), rounds = totals.rounds;
    log::info(format(
        "[summary] total %lld images in %.2f s: %.1f images/s; start-up %.2f s, rounds %.2f s; "
        "coordinator overhead %.1f%% ((rounds - max busy) / rounds)",
        static_cast<long long>(totals.made_all), wall, wall > 0 ? made / wall : 0.0, wall - rounds,
        rounds, rounds > 0 ? 100.0 * (rounds - max_busy) / rounds : 0.0));
    if (totals.made_all > 0) {
        const double k = 1000.0 / made;
        log::info(
            format("[timing] CPU ms per image: sample %.2f, render %.2f, labels %.2f, encode %.2f, "
                   "write %.2f; peak RSS %.0f MB",
                   stage_sum[0] * k, stage_sum[1] * k, stage_sum[2] * k, stage_sum[3] * k,
                   stage_sum[4] * k, rss_max));
    }
}

}  // namespace cardsynth
