#pragma once
// THE event loop of lockd: one thread that waits on
//   - the fanotify group: exec permission events go to the ExecDecider; plain opens
//     (FAN_OPEN_PERM) are triaged here from a pread of the file's head (coverage_gate.h):
//     loadable ELF and scripts read by interpreters go to the ExecDecider like an exec,
//     everything else is allowed at once; write notifications invalidate the decision cache,
//     queue overflows are reported;
//   - the signalfd: SIGHUP reloads the database, SIGTERM/SIGINT stop;
//   - /proc/self/mountinfo and the fanotify mount notifications (mount_discovery.h): new mounts
//     are marked (every namespace's table is also re-read once a second);
//   - a timer: the systemd watchdog ping.
// It runs until a stop signal, then returns; the daemon (daemon.cpp) does the teardown.

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "lockd/database_manager.h"
#include "lockd/decision_cache.h"
#include "lockd/decision_sink.h"
#include "lockd/exec_decider.h"
#include "lockd/filesystem_marker.h"
#include "lockd/kernel_cache.h"
#include "lockd/mount_discovery.h"
#include "lockd/os/event_kernel.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/signal_fd.h"
#include "lockd/script_coverage.h"
#include "lockd/stats.h"

namespace lockd {

struct EventLoopParts {
  // The fanotify group and what the kernel says about files and processes (os/event_kernel.h).
  os::EventKernel& kernel;
  os::SignalFd& signals;
  // Finds and marks filesystems as mounts come and go; may be null (unit tests: no mount
  // syncing, no mount fds to poll).
  MountDiscovery* mounts;
  // Which filesystems are marked, and how (the FilesystemMarker; a fake in unit tests).
  const FilesystemCoverage& coverage;
  ExecDecider& decider;
  DecisionCache& cache;
  DecisionSink& sink;
  Stats& stats;
  // SIGHUP. Must return at once: the loop thread never opens a file on a marked filesystem
  // (that open would wait on a permission event only this thread answers).
  std::function<void()> reload;
  std::optional<std::chrono::milliseconds> watchdog_interval;
  // Optional: called for every write notification (FAN_MODIFY and/or FAN_CLOSE_WRITE in
  // event.mask, event.pid the writer) on the loop thread, before the event fd is closed. Used
  // by maintenance learning. Must return at once (no hashing, no blocking I/O); dup the fd to
  // keep it.
  std::function<void(const os::FanotifyEvent& event)> on_write = nullptr;
  // The database in force, whose policy decides plain opens (FAN_OPEN_PERM, coverage_gate.h).
  // Without it every plain open is allowed (only exec is decided).
  DatabaseManager* databases = nullptr;
  // Optional: script coverage beyond names and modes (lockd/script_coverage.h): told of every
  // exec permission event, asked about plain opens of interpreters (TriageOpen). What it
  // marks for judgement is judged by the decider like any other load of code. The digests it
  // needs come from the decider (ExecDeciderOptions::exec_digest).
  ScriptCoverage* scripts = nullptr;
  // Optional: files whose execs the kernel answers itself (kernel_cache.h). Their plain opens
  // are shown to it first (KernelCache::OnOpen): answered at once when nobody writes the file,
  // and a writer's open takes the mark away before it is answered.
  KernelCache* kernel_cache = nullptr;
};

class EventLoop {
 public:
  explicit EventLoop(EventLoopParts parts);

  // Runs until SIGTERM or SIGINT. Returns the signal that stopped it.
  int Run();

  // Handles events read by someone else before the loop ran (the startup responder), in order,
  // as if the loop had read them. Also the unit tests' way in (with a fake kernel).
  void HandleEvents(std::vector<os::FanotifyEvent> events) { HandleBatch(std::move(events)); }

  // Each batch may read more events (the drain after the writer probe); under an endless flood
  // that could go on forever, so after kMaxRounds rounds the last batch is decided without the
  // cache (no drain needed) and control returns to poll (signals, mounts).
  static constexpr int kMaxRounds = 64;

  // Reads and handles whatever is queued now (also used at shutdown, after the marks are
  // removed, so every event already queued is answered).
  void DrainFanotify();

  // Re-reads every mount namespace's table and marks new filesystems (MountDiscovery::SyncAll):
  // once a second, on mount changes of lockd's own namespace, and at start after READY. A
  // filesystem created and used inside another namespace before lockd reads it is not seen
  // (docs/threat-model.md).
  void SyncMounts();
  void SyncOtherNamespaces() { SyncMounts(); }

 private:
  // Handles one batch; returns false on a fatal read error.
  void HandleBatch(std::vector<os::FanotifyEvent> batch);
  void HandleNotification(os::FanotifyEvent& event);
  // Whether a plain open (FAN_OPEN_PERM) must be judged; false: answer allow now.
  bool OpenNeedsJudgement(const os::FanotifyEvent& event,
                          const hashdb::Result<FileFacts>& facts) const;

  EventLoopParts p_;
  const pid_t self_;
};

}  // namespace lockd
