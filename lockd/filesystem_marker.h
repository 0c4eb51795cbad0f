#pragma once
// Which filesystems lockd watches, and keeping the marks in step with the mount table.
//
// SelectMounts is pure (unit tested): local filesystems only (pseudo, network and FUSE ones are
// left to the coverage policy of a later issue); with a `watch` list, only the filesystems the
// watch paths live on and every mount at or below a watch path.
//
// FilesystemMarker places the marks and remembers them: a filesystem mark per superblock where
// the kernel allows it (then the decision cache may be used for its files), else a mount mark
// per mount. Sync is called at start, whenever the mount table changes and once a second.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/mountinfo.h"

namespace lockd {

std::vector<os::MountEntry> SelectMounts(const std::vector<os::MountEntry>& mounts,
                                         const std::optional<std::vector<std::string>>& watch);

struct MarkedFilesystem {
  std::uint64_t dev = 0;
  std::string mount_point;
  std::string fs_type;
  os::MarkKind kind = os::MarkKind::kFilesystem;
};

class FilesystemMarker {
 public:
  FilesystemMarker(os::FanotifyGroup& group, os::MarkMask mask,
                   std::optional<std::vector<std::string>> watch);

  // Marks every selected mount not yet marked. Returns the number of new marks; errors on
  // individual mounts are collected in `failures` (mount point: reason) and do not stop the
  // others.
  std::size_t Sync(const std::vector<os::MountEntry>& mounts, std::vector<std::string>& failures);
  // Removes every mark (shutdown). Best effort.
  void UnmarkAll();

  // Whether files with this st_dev are under a filesystem mark (cache allowed). Thread-safe.
  bool FilesystemMarked(std::uint64_t dev) const;
  std::vector<MarkedFilesystem> Marked() const;

 private:
  os::FanotifyGroup& group_;
  const os::MarkMask mask_;
  const std::optional<std::vector<std::string>> watch_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, MarkedFilesystem> by_dev_;  // filesystem marks
  std::map<int, MarkedFilesystem> by_mount_;          // mount marks, by mount id
};

}  // namespace lockd
