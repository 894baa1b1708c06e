// One long-lived thread that runs one job at a time for the main thread, so that a rank renders
// its next round while the main thread (the only one that calls MPI and HDF5) writes the last.
// The thread stays for the whole run, so its OpenMP team and thread-local scratch stay warm.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace cardsynth {

class WorkerThread {
  public:
    WorkerThread();
    ~WorkerThread();  // waits for a running job, then ends the thread
    WorkerThread(const WorkerThread&) = delete;
    WorkerThread& operator=(const WorkerThread&) = delete;

    // Starts `job` on the worker; at most one job runs at a time (call wait() between).
    void start(std::function<void()> job);
    // Waits for the job started last; rethrows what it threw.
    void wait();

  private:
    void loop();

    std::mutex mutex_;
    std::condition_variable changed_;
    std::function<void()> job_;
    bool running_ = false, quit_ = false;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace cardsynth
