// What rank 0 prints about a run: the [system] lines at start (one set per node), and at the end
// the [summary] per rank, the totals and the [timing] CPU time per image of each stage.
#pragma once

#include "mpi/mpi_context.h"
#include "run/round_pipeline.h"
#include "system/system.h"

namespace cardsynth {

// Collective: every rank gives its cores, threads and GPUs; rank 0 prints them per node.
void print_system(const MpiContext& mpi, int cores, int threads, const GpuProbe& gpus);

// Collective: every rank gives its totals; rank 0 prints the summary of a run that took
// `wall_seconds` in all.
void print_summary(const MpiContext& mpi, const RunTotals& totals, double wall_seconds);

}  // namespace cardsynth
