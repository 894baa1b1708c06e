// The main of every MPI test: MPI initialised as the program does it (MpiSession: FUNNELED,
// errors returned to be checked), the Catch2 session, and one exit code for the whole job, the
// worst of any rank's, so that a failure on one rank fails the test.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <mpi.h>

#include "mpi/mpi_context.h"

int main(int argc, char** argv) {
    cardsynth::MpiSession session(&argc, &argv);
    const int result = Catch::Session().run(argc, argv);
    int worst = 0;
    MPI_Allreduce(&result, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}
