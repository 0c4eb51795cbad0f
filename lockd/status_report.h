#pragma once
// What `lockctl status` shows, gathered by the daemon into a plain struct and rendered as text
// or JSON here (pure: unit tested).

#include <cstdint>
#include <string>
#include <vector>

#include "lockd/filesystem_marker.h"
#include "lockd/stats.h"

namespace lockd {

struct StatusSnapshot {
  std::string version;
  std::string mode;  // "enforce", "audit", "maintenance"
  // The open maintenance window ("" when none): session id, end (seconds since the epoch) and
  // files learned so far.
  std::string maintenance_session;
  std::int64_t maintenance_ends_unix = 0;
  std::uint64_t maintenance_learned = 0;
  std::uint64_t db_generation = 0;
  std::string db_path;
  std::string db_signer;  // key id, hex
  std::uint64_t db_entries = 0;
  std::int64_t db_created_unix = 0;
  std::int64_t uptime_seconds = 0;
  std::uint64_t allowed = 0;
  std::uint64_t denied = 0;
  std::uint64_t would_deny = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t cache_entries = 0;
  std::uint64_t hashes = 0;
  std::uint64_t hashed_bytes = 0;
  std::uint64_t hashes_inline = 0;  // of `hashes`, on the event loop from the page cache
  std::uint64_t response_errors = 0;
  std::uint64_t queue_overflows = 0;
  std::int64_t queue_depth = 0;  // permission events read and not yet answered
  // Fresh deciders the supervisor started after one died (0: the first is still running).
  // The counters above are the current decider's: they restart from 0 with it.
  std::uint64_t decider_restarts = 0;
  // Since the previous ready decider: deciders that failed to start, and permission events the
  // supervisor denied while none ran.
  // Permission events the kernel denied itself because it could not open the file for lockd
  // without waiting (a lease); counted only where the kernel reports them (Linux 6.13+).
  std::uint64_t unopenable_denied = 0;
  bool reports_open_errors = false;
  std::uint64_t failed_starts = 0;
  std::uint64_t denied_while_down = 0;
  std::uint64_t workers = 0;
  // Files left to the kernel after their first allow (kernel_cache.h): the scope ("read-only",
  // "immutable", "off"), qualifying superblocks, marks placed since start and standing now,
  // flushes, marks the kernel refused. Execs the kernel answers itself are not counted in
  // `allowed`.
  std::string kernel_cache = "off";
  std::uint64_t kernel_cache_superblocks = 0;
  std::uint64_t kernel_cache_files = 0;
  std::uint64_t kernel_cache_standing = 0;
  std::uint64_t kernel_cache_flushes = 0;
  std::uint64_t kernel_cache_failures = 0;
  std::uint64_t kernel_cache_unwatched = 0;  // marks taken away because a writer opened the file
  std::vector<MarkedFilesystem> marked;
  // Where lockd marks (watch_policy.h DescribeWatch) and where that list came from ("signed
  // policy" or lockd.toml's path); empty when not known.
  std::string watch;
  std::string watch_source;
  // The signed policy's restrict_user_namespaces (applied at start and reload,
  // lockd/userns_policy.h) and the kernel's settings now (ReadUserNamespaceSettings).
  bool restrict_user_namespaces = false;
  bool user_namespaces_restricted = false;
  std::string user_namespaces_kernel;
  // How new filesystems are learnt of (mount_discovery.h Describe).
  std::string mount_discovery;
  // Overlay layers whose filesystem is not marked ("overlay X: upper layer Y not covered (..)").
  std::vector<std::string> overlay_gaps;
  std::vector<DenialSummary> last_denials;
};

std::string RenderStatusText(const StatusSnapshot& s);
std::string RenderStatusJson(const StatusSnapshot& s);

}  // namespace lockd
