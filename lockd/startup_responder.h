#pragma once
// StartupResponder: reads the fanotify group while a decider starts, before its event loop
// runs, so that the decider never waits on itself.
//
// Why: the marks belong to the group, which the supervisor keeps open across a decider's death,
// so a decider that replaces a dead one starts with every filesystem already marked. On a
// terminal lockd's own files (config, database, trust anchors, state, audit log) live on those
// filesystems: each open the new decider makes raises a permission event that only the
// decider itself can answer. Without this thread the fresh decider hangs in its first open and
// with it every exec and open on the terminal (issue 10, freeze 1).
//
// What it does, on its own thread, from the first step of RunDaemon until the event loop takes
// over (Stop):
//   - a permission event of this process (any of its threads: the event pid is the thread
//     group id) is allowed at once;
//   - every other event is held, in queue order, for the event loop, which decides it as if it
//     had read it itself (write notifications included, so the cache and maintenance learning
//     see them in order);
//   - a permission event held longer than hold_limit is denied (fail closed: a slow start must
//     not make the terminal wait; nothing is allowed that was not judged), and so is any
//     permission event beyond kMaxHeld.
// The events it reads are recorded in the group's pending ledger like any other, so if the
// decider dies during startup the supervisor denies what was held.
//
// Thread-safety: Start and Stop from one thread (RunDaemon's).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "hashdb/unique_fd.h"
#include "lockd/os/event_kernel.h"

namespace lockd {

class StartupResponder {
 public:
  // Events held at most; beyond this a permission event is denied at once and a notification
  // is dropped (counted). Each held event keeps an fd open.
  static constexpr std::size_t kMaxHeld = 4096;

  struct Counts {
    std::uint64_t own_allowed = 0;  // this process's own accesses, allowed
    std::uint64_t held = 0;         // handed to the event loop by Stop
    std::uint64_t denied_late = 0;  // held longer than hold_limit (or beyond kMaxHeld), denied
    std::uint64_t dropped = 0;      // notifications dropped beyond kMaxHeld
    std::uint64_t read_errors = 0;  // reads of the group that failed
  };

  // Starts the thread. `kernel` (the group) must outlive this object.
  StartupResponder(os::EventKernel& kernel, std::chrono::milliseconds hold_limit);
  ~StartupResponder();
  StartupResponder(const StartupResponder&) = delete;
  StartupResponder& operator=(const StartupResponder&) = delete;

  // Stops the thread and returns the events it holds, oldest first, for the event loop to
  // handle before anything it reads itself. Idempotent (later calls return nothing).
  std::vector<os::FanotifyEvent> Stop();

  Counts counts() const;

 private:
  struct Held {
    os::FanotifyEvent event;
    std::chrono::steady_clock::time_point since;
  };
  void Run();
  void Take(std::vector<os::FanotifyEvent> events);
  void DenyOverdue();

  os::EventKernel& kernel_;
  const std::chrono::milliseconds hold_limit_;
  const pid_t self_;
  hashdb::UniqueFd stop_fd_;  // eventfd: wakes the thread's poll
  mutable std::mutex mu_;
  std::vector<Held> held_;
  Counts counts_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace lockd
