#pragma once
// Which filesystems lockd watches, and keeping the marks in step with the mount table.
//
// SelectMounts is pure (unit tested): local filesystems and the untrusted ones (FUSE and
// network: marked for exec only, so that an exec there is seen and denied or hashed, see
// coverage_gate.h); pseudo filesystems never. With a `watch` list, only the filesystems the
// watch paths live on and every mount at or below a watch path.
//
// FilesystemMarker places the marks and remembers them: a filesystem mark per superblock where
// the kernel allows it (then the decision cache may be used for its files), else a mount mark
// per mount. Local filesystems get `mask`, untrusted ones `untrusted_mask`. Sync is called at
// start, whenever the mount table changes and once a second.

#include <sys/types.h>
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

// With a watch list, the root filesystem (the superblock mounted at /) is selected only when
// "/" itself is a watch path: a test or demo configuration can never mark the whole machine.
std::vector<os::MountEntry> SelectMounts(const std::vector<os::MountEntry>& mounts,
                                         const std::optional<std::vector<std::string>>& watch);

struct MarkedFilesystem {
  std::uint64_t dev = 0;
  std::string mount_point;
  std::string fs_type;
  os::MarkKind kind = os::MarkKind::kFilesystem;
  bool untrusted = false;  // FUSE or network: marked with the untrusted mask
};

// What the event path asks about the marks (FilesystemMarker answers; unit tests fake it).
class FilesystemCoverage {
 public:
  virtual ~FilesystemCoverage() = default;
  // Whether files with this st_dev are under a filesystem mark (cache allowed). Thread-safe.
  virtual bool FilesystemMarked(std::uint64_t dev) const = 0;
  // Whether files with this st_dev are on a marked FUSE or network filesystem. Thread-safe.
  virtual bool Untrusted(std::uint64_t dev) const = 0;
};

class FilesystemMarker : public FilesystemCoverage {
 public:
  FilesystemMarker(os::FanotifyGroup& group, os::MarkMask mask,
                   std::optional<std::vector<std::string>> watch,
                   os::MarkMask untrusted_mask = os::MarkMask{true, false, false});

  // Marks every selected mount not yet marked. Returns the number of new marks; errors on
  // individual mounts are collected in `failures` (mount point: reason) and do not stop the
  // others.
  std::size_t Sync(const std::vector<os::MountEntry>& mounts, std::vector<std::string>& failures);
  // The same for the mount table of another mount namespace, read from /proc/<pid>/mountinfo
  // of a process in it: each new superblock there is marked through
  // /proc/<pid>/root/<mount point> with a filesystem mark (mount marks are not placed for other
  // namespaces). Superblocks already marked (the same st_dev) are skipped. Marks are dropped
  // only by Sync of lockd's own table when their device is gone from it and from
  // `foreign_devs` (the devices every other namespace still shows).
  std::size_t SyncForeign(pid_t pid, const std::vector<os::MountEntry>& mounts,
                          std::vector<std::string>& failures);
  // Forgets foreign marks whose device no other namespace shows any more (a device number is
  // reused by the next filesystem mounted, which must then be marked afresh).
  void ForgetForeignExcept(const std::vector<std::uint64_t>& devs_seen);
  // Removes every mark (shutdown). Best effort.
  void UnmarkAll();

  bool FilesystemMarked(std::uint64_t dev) const override;
  bool Untrusted(std::uint64_t dev) const override;
  // The mask local filesystems are marked with (fixed at start).
  const os::MarkMask& mask() const { return mask_; }
  std::vector<MarkedFilesystem> Marked() const;

 private:
  bool MarkOne(const std::string& path, const os::MountEntry& m, bool filesystem_only,
               std::vector<std::string>& failures);

  os::FanotifyGroup& group_;
  const os::MarkMask mask_;
  const std::optional<std::vector<std::string>> watch_;
  const os::MarkMask untrusted_mask_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, MarkedFilesystem> by_dev_;   // filesystem marks
  std::map<int, MarkedFilesystem> by_mount_;           // mount marks, by mount id
  std::map<std::uint64_t, int> untrusted_devs_;        // dev -> number of untrusted marks
  std::map<std::uint64_t, MarkedFilesystem> foreign_;  // filesystem marks via other namespaces
};

}  // namespace lockd
