#pragma once
// GatherStatus: what `lockctl status` shows, read from the parts of a running decider into a
// StatusSnapshot (status_report.h renders it). Called on the control socket's thread: every
// source is read through its thread-safe accessors (atomics, the database in force, the
// marker's and cache's own locks), and nothing here blocks on the event loop.

#include <chrono>
#include <optional>

#include "lockd/daemon.h"
#include "lockd/status_report.h"

namespace lockd {

class DatabaseManager;
class DecisionCache;
class FilesystemMarker;
class KernelCache;
class ModeSource;
class MountDiscovery;
class Stats;
struct WatchChoice;
namespace maintenance {
class Controller;
}
namespace os {
class FanotifyGroup;
}

// The decider's parts a status reads; all must outlive the call.
struct StatusSources {
  std::chrono::steady_clock::time_point started;  // for the uptime
  const DatabaseManager& databases;
  const ModeSource& modes;
  const Stats& stats;
  const DecisionCache& cache;
  const os::FanotifyGroup& group;                // whether the kernel reports unopenable files
  const std::optional<DeciderRestart>& restart;  // the supervisor's restart counters
  unsigned workers;
  const WatchChoice& watch;
  const FilesystemMarker& marker;
  const MountDiscovery& discovery;
  const maintenance::Controller& maintenance;
  const KernelCache* kernel_cache = nullptr;  // null: shown as off
};

// Also reads the kernel's user-namespace settings (userns_policy.h) at the time of the call.
StatusSnapshot GatherStatus(const StatusSources& from);

}  // namespace lockd
