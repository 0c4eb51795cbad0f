#pragma once
// fanotify mount notifications (Linux 6.14+): a separate FAN_CLASS_NOTIF | FAN_REPORT_MNT
// group (the kernel does not allow mount events in a group with file events) with a
// FAN_MARK_MNTNS mark on each mount namespace lockd knows, reporting FAN_MNT_ATTACH and
// FAN_MNT_DETACH with the unique id of the mount and the pid of the process that mounted.
//
// A hint, not a boundary: the event is queued after the mount is made and nothing waits for
// lockd, a namespace created after the last scan has no mark yet (a new namespace raises no
// event on 6.18), and a mount that is never attached (fsmount(2) then execveat on its fd)
// raises none at all. docs/threat-model.md says what that leaves open.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

struct MountChange {
  bool attached = false;        // FAN_MNT_ATTACH (else FAN_MNT_DETACH)
  std::uint64_t unique_id = 0;  // statmount(2) / STATX_MNT_ID_UNIQUE id of the mount
  pid_t pid = 0;                // the process that mounted or unmounted
};

// Parses what read(2) returned from a FAN_REPORT_MNT group. Events without a mount record, and
// a queue overflow, are returned as a change with unique_id 0 (the caller then re-reads every
// table). Stops at the first malformed event.
std::vector<MountChange> ParseMountEvents(std::span<const std::uint8_t> bytes);

class MountNotifier {
 public:
  // kUnsupported when the kernel has no FAN_REPORT_MNT (before 6.14).
  static hashdb::Result<MountNotifier> Create();

  MountNotifier(MountNotifier&&) = default;
  MountNotifier& operator=(MountNotifier&&) = default;

  // Asks for the attach/detach events of the mount namespace of `pid` (FAN_MARK_MNTNS on
  // /proc/<pid>/ns/mnt). Adding a mark that exists only merges it.
  hashdb::Status Watch(pid_t pid);

  // Everything queued now (empty when nothing is).
  hashdb::Result<std::vector<MountChange>> Read();

  int fd() const { return fd_.get(); }

 private:
  explicit MountNotifier(hashdb::UniqueFd fd) : fd_(std::move(fd)) {}
  hashdb::UniqueFd fd_;
};

}  // namespace lockd::os
