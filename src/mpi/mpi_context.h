// The MPI facts a rank needs: its place in the job and on its node (MPI_Comm_split_type with
// MPI_COMM_TYPE_SHARED), and a way to fail together: a step that throws on some ranks makes
// every rank throw the same one-line error, so no rank is left waiting in a collective.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <mpi.h>

namespace cardsynth {

// Every MPI call goes through check_mpi: the job's communicators use MPI_ERRORS_RETURN, so a
// failure is only a return code, and an unread code is an error ignored. On a code other than
// MPI_SUCCESS it throws an MpiError "<operation> failed: <MPI_Error_string's text>", e.g.
//   check_mpi(MPI_Bcast(&n, 1, MPI_INT, 0, comm), "MPI_Bcast of the image count");
// Name the MPI function first, so that the test hook below can pick out one call.
void check_mpi(int rc, const char* operation);

// A test hook: every checked call whose operation contains `operation_part` fails as if MPI
// had returned MPI_ERR_OTHER; empty turns it off. The environment variable
// CARDSYNTH_FAIL_MPI=<operation_part> sets it at start-up, so that a test can show that a failed
// call is reported, not ignored. Make the same calls fail on every rank: a rank that fails
// alone leaves the others waiting in the collective.
void fail_mpi_calls_for_tests(const std::string& operation_part);

// MPI_Init_thread(FUNNELED) on construction, MPI_Finalize on destruction; MPI_COMM_WORLD
// returns error codes (MPI_ERRORS_RETURN) for check_mpi to report.
class MpiSession {
  public:
    MpiSession(int* argc, char*** argv);
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;
};

class MpiContext {
  public:
    explicit MpiContext(MPI_Comm world = MPI_COMM_WORLD);
    ~MpiContext();
    MpiContext(const MpiContext&) = delete;
    MpiContext& operator=(const MpiContext&) = delete;

    MPI_Comm comm() const { return world_; }
    int rank() const { return rank_; }
    int size() const { return size_; }
    int local_rank() const { return local_rank_; }
    int local_size() const { return local_size_; }
    const std::string& host() const { return host_; }
    bool root() const { return rank_ == 0; }

    // Runs `step` on every rank. If it throws anywhere, every rank throws the lowest failing
    // rank's error, with its message and exit code.
    void agree(const std::function<void()>& step) const;
    // Logical OR of a flag over all ranks.
    bool any(bool flag) const;
    // Strings of every rank, on rank 0 (empty elsewhere).
    std::vector<std::string> gather_strings(const std::string& mine) const;
    std::string broadcast_string(const std::string& value) const;  // from rank 0
    std::vector<double> allgather(double mine) const;
    // Bitwise OR of equal-length masks over the ranks of this node.
    std::vector<uint64_t> node_or(const std::vector<uint64_t>& mine) const;
    void barrier() const;

  private:
    MPI_Comm world_;
    MPI_Comm node_ = MPI_COMM_NULL;
    int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
    std::string host_;
};

}  // namespace cardsynth
