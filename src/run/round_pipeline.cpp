#include "run/round_pipeline.h"

#include <cmath>
#include <string>

#include "base/error.h"
#include "run/signals.h"

namespace cardsynth {

RoundPipeline::RoundPipeline(const MpiContext& mpi, ImageMaker& maker, DatasetWriter& writer,
                             const OutputFile& output, Coordinator& coordinator, Progress& progress)
    : mpi_(mpi),
      maker_(maker),
      writer_(writer),
      output_(output),
      coordinator_(coordinator),
      progress_(progress),
      slow_(slow_factor(mpi.rank())) {}

RunTotals RoundPipeline::run() {
    while (!finished()) {
        stop_if_signalled();
        render_and_write(next_plan());
    }
    write_pending();
    return totals_;
}

bool RoundPipeline::finished() const {
    int finished = coordinator_.finished() ? 1 : 0;
    check_mpi(MPI_Bcast(&finished, 1, MPI_INT, 0, mpi_.comm()), "MPI_Bcast of the finished flag");
    return finished != 0;
}

void RoundPipeline::stop_if_signalled() {
    if (!mpi_.any(stop_signal() != 0)) return;
    write_pending();
    writer_.close();
    throw Interrupted(std::string("stopped by ") + signal_name(stop_signal()) + " after " +
                      std::to_string(totals_.made_all) + " images; '" + output_.partial() +
                      "' is resumable: rerun the same command with --resume");
}

// Rank 0's plan of the round, broadcast: per rank the begin and end of its range, then the
// round's deadline in microseconds.
RoundPlan RoundPipeline::next_plan() {
    std::vector<int64_t> buf(2 * mpi_.size() + 1);
    if (mpi_.root()) {
        const auto ranges = coordinator_.next_round();
        for (int r = 0; r < mpi_.size(); ++r)
            buf[2 * r] = ranges[r].begin, buf[2 * r + 1] = ranges[r].end;
        buf.back() = std::llround(coordinator_.round_seconds() * 1e6);
    }
    check_mpi(MPI_Bcast(buf.data(), static_cast<int>(buf.size()), MPI_INT64_T, 0, mpi_.comm()),
              "MPI_Bcast of the round's ranges and deadline");
    RoundPlan plan;
    plan.range = {buf[2 * mpi_.rank()], buf[2 * mpi_.rank() + 1]};
    plan.time = std::chrono::microseconds(buf.back());
    plan.slow = slow_;
    return plan;
}

void RoundPipeline::render_and_write(const RoundPlan& plan) {
    // Busy time is this rank's own rendering, measured on the worker.
    double busy = 0;
    RoundData& rd = rounds_[cur_];
    worker_.start([&] {
        const auto t0 = Clock::now();
        maker_.make(plan, rd, totals_.times);
        busy = seconds_since(t0);
    });
    try {
        write_pending();
    } catch (...) {
        // Every rank throws the write's error; what the round did no longer matters.
        try {
            worker_.wait();
        } catch (...) {
        }
        throw;
    }
    mpi_.agree([&] { worker_.wait(); });
    cur_ = 1 - cur_;
    pending_ = true;
    record(rd.images(), busy);
}

void RoundPipeline::write_pending() {
    if (!pending_) return;
    pending_ = false;
    const double w0 = thread_cpu();
    mpi_.agree([&] {
        try {
            writer_.write_round(rounds_[1 - cur_]);
        } catch (const DatasetError& e) {
            throw DatasetError(output_.explain_write_failure(e.what()));
        }
    });
    totals_.times.write += thread_cpu() - w0;
}

// Every rank's images and busy time of the round: rank 0's coordinator sizes the next round from
// them.
void RoundPipeline::record(int64_t made, double busy) {
    const auto busy_all = mpi_.allgather(busy);
    const auto images_all = mpi_.allgather(static_cast<double>(made));
    std::vector<int64_t> images(mpi_.size());
    for (int r = 0; r < mpi_.size(); ++r) images[r] = static_cast<int64_t>(images_all[r]);
    if (mpi_.root()) coordinator_.report(images, busy_all);
    for (int64_t n : images) totals_.made_all += n;
    totals_.made += made;
    totals_.busy += busy;
    progress_.update(totals_.made_all);
}

}  // namespace cardsynth
