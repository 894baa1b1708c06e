#include "run/mpi_context.h"

#include <unistd.h>

#include "base/error.h"

namespace cardsynth {
namespace {

// An error that carries another rank's exit code.
class RemoteError : public Error {
  public:
    RemoteError(const std::string& what, int code) : Error(what), code_(code) {}
    int exit_code() const override { return code_; }

  private:
    int code_;
};

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    // Errors come back as codes so that we can say what failed in a sentence of our own.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

MpiContext::MpiContext(MPI_Comm world) : world_(world) {
    MPI_Comm_rank(world_, &rank_);
    MPI_Comm_size(world_, &size_);
    MPI_Comm_split_type(world_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_);
    MPI_Comm_rank(node_, &local_rank_);
    MPI_Comm_size(node_, &local_size_);
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    host_ = name;
}

MpiContext::~MpiContext() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (node_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&node_);
}

void MpiContext::agree(const std::function<void()>& step) const {
    std::string message;
    int code = kExitOk;
    try {
        step();
    } catch (const Error& e) {
        message = e.what();
        code = e.exit_code();
    } catch (const std::exception& e) {
        message = e.what();
        code = kExitFailure;
    }
    int mine = message.empty() && code == kExitOk ? size_ : rank_;
    if (!message.empty() && code == kExitOk) code = kExitFailure;
    int first = size_;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, world_);
    if (first == size_) return;
    int len = static_cast<int>(message.size());
    MPI_Bcast(&code, 1, MPI_INT, first, world_);
    MPI_Bcast(&len, 1, MPI_INT, first, world_);
    message.resize(len);
    MPI_Bcast(message.data(), len, MPI_CHAR, first, world_);
    throw RemoteError(message, code);
}

bool MpiContext::any(bool flag) const {
    int in = flag ? 1 : 0, out = 0;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, world_);
    return out != 0;
}

std::vector<std::string> MpiContext::gather_strings(const std::string& mine) const {
    int len = static_cast<int>(mine.size());
    std::vector<int> lens(size_);
    MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, world_);
    std::vector<int> displs(size_, 0);
    int total = 0;
    for (int r = 0; r < size_; ++r) displs[r] = total, total += lens[r];
    std::string all(rank_ == 0 ? total : 0, '\0');
    MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, 0,
                world_);
    std::vector<std::string> out;
    if (rank_ == 0)
        for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], lens[r]));
    return out;
}

std::string MpiContext::broadcast_string(const std::string& value) const {
    int len = static_cast<int>(value.size());
    MPI_Bcast(&len, 1, MPI_INT, 0, world_);
    std::string out = rank_ == 0 ? value : std::string(len, '\0');
    MPI_Bcast(out.data(), len, MPI_CHAR, 0, world_);
    return out;
}

std::vector<double> MpiContext::allgather(double mine) const {
    std::vector<double> out(size_);
    MPI_Allgather(&mine, 1, MPI_DOUBLE, out.data(), 1, MPI_DOUBLE, world_);
    return out;
}

std::vector<uint64_t> MpiContext::node_or(const std::vector<uint64_t>& mine) const {
    std::vector<uint64_t> out(mine.size());
    MPI_Allreduce(mine.data(), out.data(), static_cast<int>(mine.size()), MPI_UINT64_T, MPI_BOR,
                  node_);
    return out;
}

void MpiContext::barrier() const {
    MPI_Barrier(world_);
}

}  // namespace cardsynth
