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

// MPI_Init_thread(FUNNELED) on construction, MPI_Finalize on destruction.
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
