#include "run/output_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/text.h"

namespace cardsynth {
namespace {

// Attempts to create the lock before giving up: each failed one found a stale lock and removed
// it, so a second failure means another run took it in between.
constexpr int kAttempts = 3;

std::string host_name() {
    char name[256] = {};
    gethostname(name, sizeof(name) - 1);
    return name;
}

// Fields of /proc/PID/stat: the state (field 3) and the start time in clock ticks since boot
// (field 22). With the PID the start time names one process, so a PID reused by an unrelated
// process after the owner died does not keep the lock alive. False when it cannot be read.
bool proc_stat(long pid, std::string& state, std::string& start) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return false;
    // The command name (field 2) may hold spaces and parentheses: count fields after its end.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream rest(stat.substr(close + 1));
    if (!(rest >> state)) return false;
    for (int i = 4; i <= 22; ++i)
        if (!(rest >> start)) return false;
    return true;
}

std::string start_time_of(long pid) {
    std::string state, start;
    return proc_stat(pid, state, start) ? start : "";
}

struct Holder {
    std::string host;
    long pid = 0;
    std::string start;
};

bool read_holder(const std::string& path, Holder& h, std::string& text) {
    std::ifstream in(path);
    if (!in) return false;
    std::getline(in, text);
    std::istringstream fields(text);
    return static_cast<bool>(fields >> h.host >> h.pid >> h.start) && h.pid > 0;
}

// Whether the holder on this host is gone: no such process, a zombie (a killed rank whose parent
// has not reaped it still answers kill(pid, 0)), or another process under its PID.
bool dead_on_this_host(const Holder& h) {
    if (kill(static_cast<pid_t>(h.pid), 0) != 0) return errno == ESRCH;
    std::string state, start;
    if (!proc_stat(h.pid, state, start)) return false;
    return state == "Z" || state == "X" || start != h.start;
}

// The longest file name made from OUT's own name: longer ones get a short stem. Under Open MPI's
// limit on the names it opens through a directory descriptor (dataset/hdf5_handle.h), and well
// under NAME_MAX.
constexpr size_t kSidecarNameMax = 160;
constexpr size_t kReadablePrefix = 64;

}  // namespace

std::string sidecar_stem(const std::string& path) {
    const size_t slash = path.rfind('/');
    const size_t start = slash == std::string::npos ? 0 : slash + 1;
    const std::string name = path.substr(start);
    if (name.size() + std::strlen(kLongestSidecarSuffix) <= kSidecarNameMax) return path;
    size_t cut = kReadablePrefix;
    // Not inside a UTF-8 character: its continuation bytes are 10xxxxxx.
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    return path.substr(0, start) + name.substr(0, cut) + "." +
           format("%016llx", static_cast<unsigned long long>(xxh64(name)));
}

std::string lock_path(const std::string& path) {
    return sidecar_stem(path) + ".lock";
}

OutputLock::OutputLock(const std::string& output) : path_(lock_path(output)) {
    const long pid = static_cast<long>(getpid());
    content_ = host_name() + " " + std::to_string(pid) + " " + start_time_of(pid) + "\n";
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            const ssize_t n = ::write(fd, content_.data(), content_.size());
            const bool ok = n == static_cast<ssize_t>(content_.size()) && ::close(fd) == 0;
            if (!ok) {
                ::unlink(path_.c_str());
                throw ConfigError("cannot write the lock file '" + path_ + "'");
            }
            return;
        }
        if (errno != EEXIST)
            throw ConfigError("cannot create the lock file '" + path_ +
                              "': " + std::strerror(errno));
        Holder h;
        std::string text;
        if (!read_holder(path_, h, text)) {
            // Being written by a run that has just created it, or damaged: look again shortly.
            usleep(200 * 1000);
            if (!read_holder(path_, h, text)) {
                if (access(path_.c_str(), F_OK) != 0) continue;  // released meanwhile
                throw ConfigError("output '" + output + "' is locked by '" + path_ +
                                  "', which does not name a host and PID; remove it if no run "
                                  "is writing this output");
            }
        }
        if (h.host != host_name())
            throw ConfigError("output '" + output + "' is in use by another run (host " + h.host +
                              ", PID " + std::to_string(h.pid) + ", lock '" + path_ +
                              "'); that host's processes cannot be checked from here: remove the "
                              "lock if that run has ended");
        if (!dead_on_this_host(h))
            throw ConfigError("output '" + output + "' is in use by another run (host " + h.host +
                              ", PID " + std::to_string(h.pid) + ", lock '" + path_ +
                              "'); wait for it to end or use another -o");
        log::warn("[output] replacing the stale lock '" + path_ +
                  "' of a run that has ended (host " + h.host + ", PID " + std::to_string(h.pid) +
                  ")");
        ::unlink(path_.c_str());
    }
    throw ConfigError("output '" + output + "' is being locked by another run ('" + path_ +
                      "'); use another -o");
}

OutputLock::~OutputLock() {
    // Remove only our own lock: one replaced by another run after ours was judged stale is theirs.
    std::ifstream in(path_);
    std::string text;
    std::getline(in, text);
    if (text + "\n" == content_) ::unlink(path_.c_str());
}

}  // namespace cardsynth
