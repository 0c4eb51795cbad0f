#include "lockd/worker_pool.h"

namespace lockd {

WorkerPool::WorkerPool(unsigned small_threads, unsigned large_threads) {
  if (small_threads == 0) small_threads = 1;
  if (large_threads == 0) large_threads = 1;
  running_since_.resize(small_threads + large_threads);
  std::size_t slot = 0;
  for (unsigned i = 0; i < small_threads; ++i, ++slot) {
    threads_.emplace_back([this, slot] { Work(small_, slot); });
  }
  for (unsigned i = 0; i < large_threads; ++i, ++slot) {
    threads_.emplace_back([this, slot] { Work(large_, slot); });
  }
}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Post(Lane lane, std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      Queue& q = lane == Lane::kLarge ? large_ : small_;
      q.jobs.push_back(std::move(job));
      q.cv.notify_one();
      return;
    }
  }
  job();
}

void WorkerPool::Work(Queue& queue, std::size_t slot) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      running_since_[slot].reset();
      queue.cv.wait(lock, [&] { return stopping_ || !queue.jobs.empty(); });
      if (queue.jobs.empty()) return;  // stopping and drained
      job = std::move(queue.jobs.front());
      queue.jobs.pop_front();
      running_since_[slot] = std::chrono::steady_clock::now();
    }
    job();
  }
}

void WorkerPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    small_.cv.notify_all();
    large_.cv.notify_all();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::optional<std::chrono::steady_clock::time_point> WorkerPool::OldestRunningSince() const {
  std::lock_guard lock(mu_);
  std::optional<std::chrono::steady_clock::time_point> oldest;
  for (const auto& since : running_since_) {
    if (since && (!oldest || *since < *oldest)) oldest = since;
  }
  return oldest;
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return small_.jobs.size() + large_.jobs.size();
}

}  // namespace lockd
