#include "run/thread_team.h"

#include <algorithm>

namespace cardsynth {

ThreadTeam::ThreadTeam(int size) {
    for (int member = 1; member < std::max(size, 1); ++member)
        helpers_.emplace_back([this, member] { helper(member); });
}

ThreadTeam::~ThreadTeam() {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        quit_ = true;
    }
    start_.notify_all();
    for (std::thread& t : helpers_) t.join();
}

void ThreadTeam::run(const std::function<void(int)>& job) {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        job_ = &job;
        busy_ = static_cast<int>(helpers_.size());
        ++generation_;
    }
    start_.notify_all();
    job(0);  // the job catches what its body throws (LoopErrors)
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
}

void ThreadTeam::helper(int member) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
        start_.wait(lock, [&] { return quit_ || generation_ != seen; });
        if (quit_) return;
        seen = generation_;
        const std::function<void(int)>* job = job_;
        lock.unlock();
        (*job)(member);
        lock.lock();
        if (--busy_ == 0) done_.notify_one();
    }
}

}  // namespace cardsynth
