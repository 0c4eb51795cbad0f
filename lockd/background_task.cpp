#include "lockd/background_task.h"

namespace lockd {

BackgroundTask::BackgroundTask(std::function<void()> work) : work_(std::move(work)) {
  thread_ = std::thread([this] { Run(); });
}

BackgroundTask::~BackgroundTask() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundTask::Request() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

unsigned long BackgroundTask::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

void BackgroundTask::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || pending_; });
    if (stop_) return;
    pending_ = false;
    lock.unlock();
    work_();
    lock.lock();
    ++runs_;
  }
}

}  // namespace lockd
