// The rounds of a run on every rank. Rank 0's coordinator plans each round (a range per rank and
// a deadline); round k renders on a worker thread into one buffer while the main thread, the
// only one that calls MPI and HDF5, writes round k - 1 from the other, so the cores stay busy
// while HDF5 writes. All ranks stop together at a round boundary when any of them got a signal.
#pragma once

#include <cstdint>
#include <vector>

#include "base/progress.h"
#include "dataset/dataset.h"
#include "mpi/mpi_context.h"
#include "run/coordinator.h"
#include "run/image_maker.h"
#include "run/output_file.h"
#include "run/stage_times.h"
#include "run/worker_thread.h"

namespace cardsynth {

// What the rounds did, on this rank.
struct RunTotals {
    int64_t made_all = 0;  // images made by every rank
    int64_t made = 0;      // by this rank
    double busy = 0;       // seconds this rank spent making images
    double rounds = 0;     // wall seconds from the first round to the finished file
    StageTimes times;
};

class RoundPipeline {
  public:
    // All must outlive the pipeline; `coordinator` is used on rank 0 only.
    RoundPipeline(const MpiContext& mpi, ImageMaker& maker, DatasetWriter& writer,
                  const OutputFile& output, Coordinator& coordinator, Progress& progress);

    // Runs rounds until every image is made and written. Throws Interrupted (after writing and
    // closing the file) when a rank got a stop signal; any other error on every rank alike.
    RunTotals run();

  private:
    bool finished() const;
    void stop_if_signalled();
    RoundPlan next_plan();
    void render_and_write(const RoundPlan& plan);
    void write_pending();
    void record(int64_t made, double busy);

    const MpiContext& mpi_;
    ImageMaker& maker_;
    DatasetWriter& writer_;
    const OutputFile& output_;
    Coordinator& coordinator_;
    Progress& progress_;
    const double slow_;
    RunTotals totals_;
    RoundData rounds_[2];
    int cur_ = 0;           // rounds_[cur_] is the one the next round renders into
    bool pending_ = false;  // rounds_[1 - cur_] holds a rendered round not written yet
    WorkerThread worker_;
};

}  // namespace cardsynth
