#pragma once
// The threads that hash and decide. Two lanes, so one huge file being hashed never holds up
// the execs of ordinary programs: files at or above kLargeFileBytes go to the large lane,
// which has its own threads; the small lane's threads never take large work.
//
// Thread-safety: Post may be called from any thread. Shutdown runs every job already posted
// (each job answers kernel events, which must never be dropped) and joins the threads.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace lockd {

enum class Lane { kSmall, kLarge };

// 16 MiB hash in ~10 ms at >= 1.5 GB/s: below it, a file is answered about as fast as the
// queue moves anyway.
inline constexpr std::int64_t kLargeFileBytes = 16 << 20;

class WorkerPool {
 public:
  WorkerPool(unsigned small_threads, unsigned large_threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // After Shutdown, jobs are run in the caller's thread (nothing is ever dropped).
  void Post(Lane lane, std::function<void()> job);
  void Shutdown();
  std::size_t queued() const;
  // When the longest-running job still running started (steady clock); nullopt when every
  // thread is idle. Lets a watchdog see a job stuck in a read that never returns (a FUSE
  // server that does not answer: untrusted_reader.h).
  std::optional<std::chrono::steady_clock::time_point> OldestRunningSince() const;

 private:
  struct Queue {
    std::deque<std::function<void()>> jobs;
    std::condition_variable cv;
  };
  void Work(Queue& queue, std::size_t slot);

  mutable std::mutex mu_;
  bool stopping_ = false;
  Queue small_;
  Queue large_;
  std::vector<std::thread> threads_;
  // Per thread: when its running job started (guarded by mu_).
  std::vector<std::optional<std::chrono::steady_clock::time_point>> running_since_;
};

}  // namespace lockd
