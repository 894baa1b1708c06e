// MpiContext under MPI: a failed MPI call is reported with MPI's own text and the operation, not
// ignored, and a step that fails on one rank fails on all with that rank's message and exit code.
// Run with --order decl: all ranks must enter the same collective calls.
#include <catch2/catch.hpp>

#include <string>

#include <mpi.h>

#include "base/error.h"
#include "mpi/mpi_context.h"

using namespace cardsynth;
using Catch::Matchers::Contains;

namespace {

// Turns the test hook off when a test ends, whether it passed or not.
struct InjectedFailure {
    explicit InjectedFailure(const std::string& operation) { fail_mpi_calls_for_tests(operation); }
    ~InjectedFailure() { fail_mpi_calls_for_tests(""); }
};

std::string error_string(int rc) {
    char text[MPI_MAX_ERROR_STRING] = {0};
    int len = 0;
    MPI_Error_string(rc, text, &len);
    return std::string(text, static_cast<size_t>(len));
}

}  // namespace

TEST_CASE("check_mpi accepts MPI_SUCCESS") {
    REQUIRE_NOTHROW(check_mpi(MPI_SUCCESS, "MPI_Barrier"));
}

TEST_CASE("check_mpi reports a failed call with MPI's text and the operation") {
    MpiContext mpi;
    // A root outside the job fails on every rank before any message is sent.
    int value = 0;
    const int rc = MPI_Bcast(&value, 1, MPI_INT, mpi.size(), mpi.comm());
    REQUIRE(rc != MPI_SUCCESS);
    try {
        check_mpi(rc, "MPI_Bcast from a rank outside the job");
        FAIL("a failed call was not reported");
    } catch (const MpiError& e) {
        REQUIRE_THAT(e.what(), Contains("MPI_Bcast from a rank outside the job failed: "));
        REQUIRE_THAT(e.what(), Contains(error_string(rc)));
        REQUIRE(e.exit_code() == kExitFailure);
    }
}

TEST_CASE("an injected failure of a wrapped call is reported, not ignored") {
    MpiContext mpi;
    {
        InjectedFailure failure("MPI_Barrier");
        REQUIRE_THROWS_AS(mpi.barrier(), MpiError);
        REQUIRE_THROWS_WITH(mpi.barrier(), Contains("MPI_Barrier failed") &&
                                               Contains("CARDSYNTH_FAIL_MPI=MPI_Barrier"));
        REQUIRE(mpi.any(mpi.rank() == 0));  // other operations still run
    }
    REQUIRE_NOTHROW(mpi.barrier());
}

TEST_CASE("agree fails when its own MPI call fails") {
    MpiContext mpi;
    InjectedFailure failure("MPI_Allreduce of the first failing rank");
    bool ran = false;
    REQUIRE_THROWS_AS(mpi.agree([&] { ran = true; }), MpiError);
    REQUIRE(ran);
}

TEST_CASE("agree gives every rank the error of the failing rank, with its exit code") {
    MpiContext mpi;
    const int failing = mpi.size() - 1;
    try {
        mpi.agree([&] {
            if (mpi.rank() == failing) throw InputError("card 'bad.png': truncated");
        });
        FAIL("no rank threw");
    } catch (const Error& e) {
        REQUIRE(std::string(e.what()) == "card 'bad.png': truncated");
        REQUIRE(e.exit_code() == kExitUsage);
        // The failing rank keeps the exception's type, not only its exit code.
        if (mpi.rank() == failing) REQUIRE(dynamic_cast<const InputError*>(&e) != nullptr);
    }
}

TEST_CASE("agree reports the lowest failing rank, whatever was thrown") {
    MpiContext mpi;
    try {
        mpi.agree([&] {
            if (mpi.rank() == 0) throw 42;  // not even a std::exception
            throw Interrupted("stopped on rank " + std::to_string(mpi.rank()));
        });
        FAIL("no rank threw");
    } catch (const Error& e) {
        REQUIRE(mpi.rank() != 0);
        REQUIRE(std::string(e.what()) == "unknown exception");
        REQUIRE(e.exit_code() == kExitFailure);
    } catch (int) {
        REQUIRE(mpi.rank() == 0);
    }
}
