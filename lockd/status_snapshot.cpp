#include "lockd/status_snapshot.h"

#include "hashdb/digest.h"
#include "hashdb/version.h"
#include "lockd/database_manager.h"
#include "lockd/decision_cache.h"
#include "lockd/filesystem_marker.h"
#include "lockd/kernel_cache.h"
#include "lockd/maintenance/controller.h"
#include "lockd/mode.h"
#include "lockd/mount_discovery.h"
#include "lockd/os/fanotify.h"
#include "lockd/stats.h"
#include "lockd/userns_policy.h"
#include "lockd/watch_policy.h"

namespace lockd {

StatusSnapshot GatherStatus(const StatusSources& from) {
  StatusSnapshot s;
  s.version = hashdb::kLockdVersion;
  auto current = from.databases.Current();
  if (current) {
    s.mode = std::string(EffectiveModeName(from.modes.Current(current->policy())));
    s.db_generation = current->generation();
    s.db_path = current->name();
    s.db_signer = hashdb::ToHex(current->signer_key_id());
    s.db_entries = current->digest_count();
    s.db_created_unix = current->created_unix();
  }
  s.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now() - from.started)
                         .count();
  const Stats& stats = from.stats;
  s.allowed = stats.allowed.load();
  s.denied = stats.denied.load();
  s.would_deny = stats.would_deny.load();
  s.cache_hits = from.cache.hits();
  s.cache_misses = from.cache.misses();
  s.cache_entries = from.cache.size();
  s.hashes = stats.hashes.load();
  s.hashed_bytes = stats.hashed_bytes.load();
  s.hashes_inline = stats.hashed_inline.load();
  s.response_errors = stats.response_errors.load();
  s.queue_overflows = stats.queue_overflows.load();
  s.queue_depth = stats.pending.load();
  s.decider_restarts = from.restart ? from.restart->number : 0;
  s.unopenable_denied = stats.unopenable_denied.load();
  s.reports_open_errors = from.group.reports_fd_errors();
  s.failed_starts = from.restart ? from.restart->failed_starts : 0;
  s.denied_while_down = from.restart ? from.restart->denied_while_down : 0;
  s.workers = from.workers;
  if (from.kernel_cache != nullptr) {
    const KernelCache::Counters kc = from.kernel_cache->counters();
    s.kernel_cache = KernelCacheScopeName(from.kernel_cache->scope());
    s.kernel_cache_superblocks = kc.superblocks;
    s.kernel_cache_files = kc.files;
    s.kernel_cache_standing = kc.standing;
    s.kernel_cache_flushes = kc.flushes;
    s.kernel_cache_failures = kc.failures;
    s.kernel_cache_unwatched = kc.unwatched;
  }
  s.watch = DescribeWatch(from.watch.watch);
  s.watch_source = from.watch.source;
  if (current) s.restrict_user_namespaces = current->policy().restrict_user_namespaces;
  const UserNamespaceSettings userns = ReadUserNamespaceSettings();
  s.user_namespaces_restricted = userns.restricted;
  s.user_namespaces_kernel = userns.text;
  s.marked = from.marker.Marked();
  s.mount_discovery = from.discovery.Describe();
  s.overlay_gaps = from.marker.OverlayGaps();
  s.last_denials = stats.RecentDenials();
  if (auto w = from.maintenance.window()) {
    s.maintenance_session = w->session;
    s.maintenance_ends_unix = w->end;
    s.maintenance_learned = from.maintenance.learned_count();
  }
  return s;
}

}  // namespace lockd
