// `cardsynth generate`: the whole run on every rank, from a validated configuration to a complete
// dataset: system probe, catalog, backgrounds, the output file (created, or reopened with
// --resume), rounds of compose -> render -> labels -> encode -> write, then the summary.
#pragma once

#include "config/config.h"
#include "mpi/mpi_context.h"

namespace cardsynth {

struct GenerateOptions {
    bool resume = false;
    bool quiet = false;         // no progress lines
    bool threads_flag = false;  // --threads was given (so OMP_NUM_THREADS is not consulted)
};

// Throws Error (ConfigError, InputError, DatasetError, Interrupted) with a one-line message; all
// ranks throw the same one.
void run_generate(const Config& config, const GenerateOptions& options, const MpiContext& mpi);

}  // namespace cardsynth
