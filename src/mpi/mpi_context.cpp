#include "mpi/mpi_context.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>

#include "base/error.h"
#include "base/log.h"

namespace cardsynth {
namespace {

// The operation part of CARDSYNTH_FAIL_MPI, or what a test set; empty: nothing fails.
std::string& injected_failure() {
    static std::string part = [] {
        const char* v = std::getenv("CARDSYNTH_FAIL_MPI");
        return std::string(v ? v : "");
    }();
    return part;
}

std::string mpi_error_text(int rc) {
    // MPI_Error_string may only be called while MPI is initialized (Open MPI aborts otherwise).
    // This is the reporting path: a call that fails here gives the bare code instead.
    int initialized = 0, finalized = 0;
    const bool usable = MPI_Initialized(&initialized) == MPI_SUCCESS &&
                        MPI_Finalized(&finalized) == MPI_SUCCESS && initialized && !finalized;
    char text[MPI_MAX_ERROR_STRING] = {0};
    int len = 0;
    if (!usable || MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        return "MPI error code " + std::to_string(rc);
    return std::string(text, static_cast<size_t>(len));
}

// Destructors must not throw: a failed clean-up is reported as a warning.
void warn_mpi(int rc, const char* operation) {
    try {
        check_mpi(rc, operation);
    } catch (const Error& e) {
        log::warn(e.what());
    }
}

// An error that carries another rank's exit code.
class RemoteError : public Error {
  public:
    RemoteError(const std::string& what, int code) : Error(what), code_(code) {}
    int exit_code() const override { return code_; }

  private:
    int code_;
};

}  // namespace

void check_mpi(int rc, const char* operation) {
    const std::string& injected = injected_failure();
    if (rc == MPI_SUCCESS && !injected.empty() && std::strstr(operation, injected.c_str()))
        throw MpiError(std::string(operation) + " failed: " + mpi_error_text(MPI_ERR_OTHER) +
                       " (injected by CARDSYNTH_FAIL_MPI=" + injected + ")");
    if (rc != MPI_SUCCESS)
        throw MpiError(std::string(operation) + " failed: " + mpi_error_text(rc));
}

void fail_mpi_calls_for_tests(const std::string& operation_part) {
    injected_failure() = operation_part;
}

MpiSession::MpiSession(int* argc, char*** argv) {
    // While the main thread waits in MPI (the round-boundary collectives, the write of the last
    // round), the rank's render threads use every core of its share. Open MPI spins in that wait
    // unless it knows the node is oversubscribed, taking a core from the renderers: on 2 cores,
    // 2 ranks x 1 thread made W1 at 20 images/s spinning and 29 yielding (medians of 5), the
    // coordinator overhead falling from 7-18% to 1-3%. A user's own setting wins.
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    // Errors come back as codes so that we can say what failed in a sentence of our own.
    check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
              "MPI_Comm_set_errhandler of MPI_COMM_WORLD");
}

MpiSession::~MpiSession() {
    int finalized = 0;
    warn_mpi(MPI_Finalized(&finalized), "MPI_Finalized");
    if (!finalized) warn_mpi(MPI_Finalize(), "MPI_Finalize");
}

MpiContext::MpiContext(MPI_Comm world) : world_(world) {
    check_mpi(MPI_Comm_rank(world_, &rank_), "MPI_Comm_rank of the job");
    check_mpi(MPI_Comm_size(world_, &size_), "MPI_Comm_size of the job");
    check_mpi(MPI_Comm_split_type(world_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_),
              "MPI_Comm_split_type of the ranks on this node");
    check_mpi(MPI_Comm_rank(node_, &local_rank_), "MPI_Comm_rank on this node");
    check_mpi(MPI_Comm_size(node_, &local_size_), "MPI_Comm_size on this node");
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    host_ = name;
}

MpiContext::~MpiContext() {
    int finalized = 0;
    warn_mpi(MPI_Finalized(&finalized), "MPI_Finalized");
    if (node_ != MPI_COMM_NULL && !finalized)
        warn_mpi(MPI_Comm_free(&node_), "MPI_Comm_free of the node communicator");
}

void MpiContext::agree(const std::function<void()>& step) const {
    std::exception_ptr error;
    std::string message;
    int code = kExitOk;
    try {
        step();
    } catch (const Error& e) {
        error = std::current_exception();
        message = e.what();
        code = e.exit_code();
    } catch (const std::exception& e) {
        error = std::current_exception();
        message = e.what();
        code = kExitFailure;
    } catch (...) {
        error = std::current_exception();
        message = "unknown exception";
        code = kExitFailure;
    }
    if (error && code == kExitOk) code = kExitFailure;
    int mine = error ? rank_ : size_;
    int first = size_;
    check_mpi(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, world_),
              "MPI_Allreduce of the first failing rank");
    if (first == size_) return;
    int len = static_cast<int>(message.size());
    check_mpi(MPI_Bcast(&code, 1, MPI_INT, first, world_), "MPI_Bcast of an error's exit code");
    check_mpi(MPI_Bcast(&len, 1, MPI_INT, first, world_), "MPI_Bcast of an error's length");
    message.resize(len);
    check_mpi(MPI_Bcast(message.data(), len, MPI_CHAR, first, world_),
              "MPI_Bcast of an error's message");
    // The failing rank keeps its exception's type; the others only learn its text and code.
    if (first == rank_) std::rethrow_exception(error);
    throw RemoteError(message, code);
}

bool MpiContext::any(bool flag) const {
    int in = flag ? 1 : 0, out = 0;
    check_mpi(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, world_),
              "MPI_Allreduce of a flag over the ranks");
    return out != 0;
}

std::vector<std::string> MpiContext::gather_strings(const std::string& mine) const {
    int len = static_cast<int>(mine.size());
    std::vector<int> lens(size_);
    check_mpi(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, world_),
              "MPI_Gather of string lengths");
    std::vector<int> displs(size_, 0);
    int total = 0;
    for (int r = 0; r < size_; ++r) displs[r] = total, total += lens[r];
    std::string all(rank_ == 0 ? total : 0, '\0');
    check_mpi(MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(),
                          MPI_CHAR, 0, world_),
              "MPI_Gatherv of strings");
    std::vector<std::string> out;
    if (rank_ == 0)
        for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], lens[r]));
    return out;
}

std::string MpiContext::broadcast_string(const std::string& value) const {
    int len = static_cast<int>(value.size());
    check_mpi(MPI_Bcast(&len, 1, MPI_INT, 0, world_), "MPI_Bcast of a string's length");
    std::string out = rank_ == 0 ? value : std::string(len, '\0');
    check_mpi(MPI_Bcast(out.data(), len, MPI_CHAR, 0, world_), "MPI_Bcast of a string");
    return out;
}

std::vector<double> MpiContext::allgather(double mine) const {
    std::vector<double> out(size_);
    check_mpi(MPI_Allgather(&mine, 1, MPI_DOUBLE, out.data(), 1, MPI_DOUBLE, world_),
              "MPI_Allgather of one number per rank");
    return out;
}

std::vector<uint64_t> MpiContext::node_or(const std::vector<uint64_t>& mine) const {
    std::vector<uint64_t> out(mine.size());
    check_mpi(MPI_Allreduce(mine.data(), out.data(), static_cast<int>(mine.size()), MPI_UINT64_T,
                            MPI_BOR, node_),
              "MPI_Allreduce of the core masks on this node");
    return out;
}

void MpiContext::barrier() const {
    check_mpi(MPI_Barrier(world_), "MPI_Barrier");
}

}  // namespace cardsynth
