#include "lockd/mount_discovery.h"

#include <unistd.h>

#include <algorithm>

#include "lockd/log.h"
#include "lockd/os/mount_namespaces.h"
#include "lockd/os/statmount.h"

namespace lockd {

hashdb::Result<std::unique_ptr<MountDiscovery>> MountDiscovery::Open(FilesystemMarker& marker,
                                                                     bool use_notifications) {
  auto watcher = os::MountWatcher::Open();
  if (!watcher.ok()) return watcher.error();
  std::optional<os::MountNotifier> notifier;
  std::string note = "not asked for";
  if (use_notifications) {
    auto n = os::MountNotifier::Create();
    if (n.ok()) {
      notifier.emplace(std::move(*n));
    } else {
      note = n.error().message;
    }
  }
  return std::unique_ptr<MountDiscovery>(
      new MountDiscovery(marker, std::move(*watcher), std::move(notifier), std::move(note)));
}

MountDiscovery::MountDiscovery(FilesystemMarker& marker, os::MountWatcher watcher,
                               std::optional<os::MountNotifier> notifier, std::string notifier_note)
    : marker_(marker),
      watcher_(std::move(watcher)),
      notifier_(std::move(notifier)),
      notifier_note_(std::move(notifier_note)),
      own_ns_id_(os::MountNamespaceId(::getpid())) {}

void MountDiscovery::LogOnce(std::set<std::string>& logged, const std::vector<std::string>& lines,
                             const std::string& prefix, bool error) {
  for (const auto& line : lines) {
    if (!logged.insert(line).second) continue;
    if (error) {
      LogError(prefix + line);
    } else {
      LogInfo(prefix + line);
    }
  }
  // Bounded: a machine that keeps producing new failing mounts must not grow this forever
  // (forgetting means a line may be logged again, nothing worse).
  if (logged.size() > 4096) logged.clear();
}

hashdb::Result<SyncReport> MountDiscovery::SyncOwn() {
  auto table = watcher_.Read();
  if (!table.ok()) return table.error();
  for (const auto& s : table->skipped) LogError("/proc/self/mountinfo " + s);
  NamespaceMounts own;
  own.own = true;
  own.mounts = table->mounts;
  own.views.push_back({"", std::move(table->mounts)});
  return marker_.Sync({own});
}

void MountDiscovery::SyncAll() {
  std::vector<NamespaceMounts> namespaces;
  std::map<std::uint64_t, KnownNamespace> by_id;
  for (const auto& ns : os::ListMountNamespaces()) {
    NamespaceMounts n;
    n.own = ns.own;
    n.ns_ino = ns.ns_ino;
    KnownNamespace known{ns.ns_ino, ns.own, {}};
    std::uint64_t id = 0;
    if (ns.own) {
      auto table = watcher_.Read();
      if (!table.ok()) {
        LogError(table.error().message);
        continue;
      }
      LogOnce(failures_logged_, table->skipped, "/proc/self/mountinfo ", true);
      n.mounts = table->mounts;
      n.views.push_back({"", std::move(table->mounts)});
      id = own_ns_id_;
      known.roots.push_back(::getpid());
    } else {
      known.roots = os::PidsWithDistinctRoots(ns.pids);
      std::vector<std::vector<os::MountEntry>> views;
      for (pid_t pid : known.roots) {
        const std::string base = "/proc/" + std::to_string(pid);
        auto table = os::ReadMountInfoFile(base + "/mountinfo");
        if (!table.ok()) continue;  // the process exited
        LogOnce(failures_logged_, table->skipped, base + "/mountinfo ", true);
        views.push_back(table->mounts);
        n.views.push_back({base + "/root", std::move(table->mounts)});
      }
      if (!known.roots.empty()) id = os::MountNamespaceId(known.roots.front());
      if (listmount_ok_ && id != 0) {
        auto all = os::ListNamespaceMounts(id);
        if (all.ok()) {
          n.mounts = std::move(*all);
        } else if (all.error().code == hashdb::ErrorCode::kUnsupported) {
          listmount_ok_ = false;
        }
      }
      if (n.mounts.empty()) n.mounts = MergeViews(views);
      if (n.views.empty()) continue;  // every process of it exited meanwhile
    }
    if (notifier_ && id != 0 && watched_ids_.count(id) == 0 && !known.roots.empty()) {
      auto s = notifier_->Watch(known.roots.front());
      if (s.ok()) {
        watched_ids_.insert(id);
      } else {
        LogOnce(failures_logged_, {s.error().message}, "mount notifications: ", true);
      }
    }
    if (id != 0) by_id[id] = std::move(known);
    namespaces.push_back(std::move(n));
  }
  // A namespace that is gone took its mark with it; its id is never reused.
  std::erase_if(watched_ids_, [&](std::uint64_t id) { return by_id.count(id) == 0; });
  by_id_ = std::move(by_id);
  {
    std::lock_guard lock(mu_);
    namespaces_ = namespaces.size();
    watched_ = watched_ids_.size();
  }
  const SyncReport report = marker_.Sync(namespaces);
  LogOnce(failures_logged_, report.failures, "cannot mark ", true);
  LogOnce(unreachable_logged_, report.unreachable, "not marked: ", false);
  LogOnce(gaps_logged_, marker_.OverlayGaps(), "", true);
  if (report.added > 0) {
    LogInfo("marked " + std::to_string(report.added) + " new filesystem(s)");
  }
  if (report.added_foreign > 0) {
    LogInfo("marked " + std::to_string(report.added_foreign) +
            " new filesystem(s) of other mount namespaces");
  }
}

void MountDiscovery::OnNotifications() {
  if (!notifier_) return;
  auto changes = notifier_->Read();
  if (!changes.ok()) {
    LogError(changes.error().message);
    SyncAll();
    return;
  }
  bool full = false;
  std::vector<std::string> failures;
  for (const auto& c : *changes) {
    if (c.unique_id == 0) {
      full = true;  // overflow or an event without a mount: re-read everything
      continue;
    }
    if (!c.attached) continue;  // the mark of an unmounted superblock dies with it
    // Which namespace: the mounter's, if it is still there; else each one known.
    std::vector<std::uint64_t> ids;
    if (std::uint64_t id = os::MountNamespaceId(c.pid); id != 0) ids.push_back(id);
    for (const auto& [id, ns] : by_id_) {
      if (ids.empty() || id != ids.front()) ids.push_back(id);
    }
    bool found = false;
    for (std::uint64_t id : ids) {
      auto entry = os::StatMount(c.unique_id, id);
      if (!entry.ok()) continue;
      found = true;
      const bool own = id == own_ns_id_;
      std::vector<std::string> prefixes;
      if (own) {
        prefixes.push_back("");
      } else {
        prefixes.push_back("/proc/" + std::to_string(c.pid) + "/root");
        if (auto it = by_id_.find(id); it != by_id_.end()) {
          for (pid_t pid : it->second.roots) {
            prefixes.push_back("/proc/" + std::to_string(pid) + "/root");
          }
        }
      }
      switch (marker_.MarkNew(*entry, own, prefixes, failures)) {
        case FilesystemMarker::NewMount::kMarked:
          LogInfo("marked " + entry->mount_point + " (" + entry->fs_type + ")" +
                  (own ? "" : " of other mount namespaces") + " on its mount notification");
          break;
        case FilesystemMarker::NewMount::kUnreached:
          full = true;  // covered already: look for a process that holds it
          break;
        case FilesystemMarker::NewMount::kSkipped:
          if (os::ClassifyFilesystem(entry->fs_type) == os::FsClass::kOverlay) {
            full = true;  // check its layers now
          }
          break;
      }
      break;
    }
    if (!found) full = true;  // gone already, or in a namespace not seen yet
  }
  LogOnce(failures_logged_, failures, "cannot mark ", true);
  if (full) SyncAll();
}

std::string MountDiscovery::Describe() const {
  std::lock_guard lock(mu_);
  if (notifier_) {
    return "fanotify mount notifications (FAN_MNT_ATTACH) in " + std::to_string(watched_) + " of " +
           std::to_string(namespaces_) +
           " mount namespace(s), and every mount table re-read each second";
  }
  return "mount table polling: /proc/self/mountinfo on change and every mount namespace each "
         "second (no mount notifications: " +
         notifier_note_ + ")";
}

}  // namespace lockd
