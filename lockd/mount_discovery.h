#pragma once
// How lockd learns of filesystems to mark: it reads the mount tables of every mount namespace
// and hands them to the FilesystemMarker.
//
//  - lockd's own namespace: /proc/self/mountinfo, re-read when the kernel flags it (POLLPRI)
//    and once a second;
//  - every other namespace some process is in: once a second (and on any change of lockd's own
//    table). Its complete table comes from listmount(2)/statmount(2) by namespace id where the
//    kernel has them (6.11+), else from the union of /proc/<pid>/mountinfo of one process per
//    distinct root (a process that chrooted sees only part of it). Its paths are reached
//    through /proc/<pid>/root of those processes;
//  - fanotify mount notifications (FAN_MNT_ATTACH, Linux 6.14+) where the kernel has them: each
//    namespace seen by the scan gets a FAN_MARK_MNTNS mark, and a mount attached there is
//    marked as soon as the event is read, without waiting for the next scan.
// None of this is synchronous with the mount: docs/threat-model.md states the window.
//
// All methods run on the event loop thread except Describe.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/filesystem_marker.h"
#include "lockd/os/mount_notifier.h"
#include "lockd/os/mount_watcher.h"

namespace lockd {

class MountDiscovery {
 public:
  // Opens lockd's mount table and, with use_notifications, a mount-notification group (left out
  // where the kernel lacks it; Describe says so). marker must outlive this object.
  static hashdb::Result<std::unique_ptr<MountDiscovery>> Open(FilesystemMarker& marker,
                                                              bool use_notifications = true);

  MountDiscovery(const MountDiscovery&) = delete;
  MountDiscovery& operator=(const MountDiscovery&) = delete;

  // Poll for POLLPRI | POLLERR: lockd's mount table changed.
  int table_fd() const { return watcher_.fd(); }
  // Poll for POLLIN: mount notifications are queued. -1 when they are not in use.
  int notify_fd() const { return notifier_ ? notifier_->fd() : -1; }

  // Marks lockd's own namespace only (at start, before READY). The report's failures are for
  // the caller to log.
  hashdb::Result<SyncReport> SyncOwn();
  // Every namespace: read, mark, check overlays. Logs each new failure, unreachable mount and
  // overlay gap once.
  void SyncAll();
  // Reads the queued mount notifications and marks what they name.
  void OnNotifications();

  // One line for `lockctl status`: which mechanism is in use. Thread-safe.
  std::string Describe() const;

 private:
  MountDiscovery(FilesystemMarker& marker, os::MountWatcher watcher,
                 std::optional<os::MountNotifier> notifier, std::string notifier_note);
  void LogOnce(std::set<std::string>& logged, const std::vector<std::string>& lines,
               const std::string& prefix, bool error);

  struct KnownNamespace {
    std::uint64_t ino = 0;
    bool own = false;
    std::vector<pid_t> roots;  // one pid per distinct root
  };

  FilesystemMarker& marker_;
  os::MountWatcher watcher_;
  std::optional<os::MountNotifier> notifier_;
  std::string notifier_note_;  // why notifications are not in use
  bool listmount_ok_ = true;   // cleared when the kernel refuses listmount of a namespace
  std::uint64_t own_ns_id_ = 0;
  std::map<std::uint64_t, KnownNamespace> by_id_;  // namespaces with an id (6.11+)
  std::set<std::uint64_t> watched_ids_;            // FAN_MARK_MNTNS placed (by namespace id)
  std::set<std::string> failures_logged_;
  std::set<std::string> unreachable_logged_;
  std::set<std::string> gaps_logged_;

  mutable std::mutex mu_;
  std::size_t namespaces_ = 0;
  std::size_t watched_ = 0;
};

}  // namespace lockd
