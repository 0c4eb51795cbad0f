#pragma once
// BackgroundTask: runs one piece of work on its own thread whenever asked, so that the thread
// that asks never does it itself. Requests made while the work runs are merged into one more
// run after it.
//
// Why: the event loop thread is the only reader of the fanotify group, so it must never open a
// file on a marked filesystem (the open would raise a permission event that only this same
// thread can answer). Work that opens files, such as SIGHUP's reload of the database, is handed
// to a BackgroundTask instead.
//
// Thread-safety: Request from any thread; the work runs on the task's thread only.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace lockd {

class BackgroundTask {
 public:
  explicit BackgroundTask(std::function<void()> work);
  // Waits for a run in progress, then stops (a pending request is dropped).
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  // Never blocks on the work.
  void Request();
  // Runs completed so far (for tests and status).
  unsigned long runs() const;

 private:
  void Run();

  std::function<void()> work_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stop_ = false;
  unsigned long runs_ = 0;
  std::thread thread_;
};

}  // namespace lockd
