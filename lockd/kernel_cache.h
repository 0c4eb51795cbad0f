#pragma once
// Decisions the kernel keeps itself: after lockd allows a file because its content is in the
// allowlist, and the file lives on a superblock whose content cannot change, lockd puts an
// ignore mark on the file's inode (os::EventKernel::IgnoreFile). The kernel then answers every
// later exec and open of that file without waking lockd: no round trip at all (issue 13).
//
// When it is safe (docs/threat-model.md, "Ignore marks"):
//  - the superblock is read-only (its "ro" super option, not only the mount's): nothing can
//    write the file through any mount; and it is mounted in lockd's own mount namespace, so
//    the initial user namespace owns it (a user who owns a superblock through a user namespace
//    can make it writable again at will: kernel_cache_userns_test); scope kReadOnly takes every such superblock, scope
//    kImmutable only filesystem types without write support (squashfs, erofs, iso9660,
//    cramfs, romfs), which cannot be made writable at all;
//  - the decision rests on the content alone and holds for every opener: reason kAllowlisted
//    (allowed in every mode), never an interpreter (script coverage must see its execs), never
//    on FUSE or network filesystems (another group, another decider);
//  - the database that allowed it is still in force: a swap removes every mark first
//    (OnDatabaseSwap), and an allow judged against the old database is not marked after it
//    (the epoch, taken before the database, like the decision cache's ticket);
//  - the superblock is still read-only: a superblock that stops qualifying (remounted
//    read-write, or gone) removes every mark before anything else (UpdateSuperblocks, after
//    each pass over the mount tables: on mount-table changes and once a second). A root user
//    can make a superblock writable without any mount-table change (fspick + fsconfig);
//    until the next pass (at most a second) the marks stay; a write(2) still clears the
//    mark of the file it writes, a write through a shared mapping does not. Made read-only
//    again before that pass, lockd never learns of it and the marks stay on the rewritten
//    file (the race is in the threat model; scope kImmutable has none);
//  - the filesystem's content changes only through this kernel (LocalStorageFilesystemType:
//    never a virtiofs or vboxsf share or a cluster filesystem, whatever its ro flag).
// At most max_files marks are placed between two flushes (each costs kernel memory and a line
// of the group's fdinfo, which lockd reads once a second); beyond that files are decided by
// lockd as before. Evictable marks go with their inode when the kernel reclaims it; the next
// event brings the file back to lockd, which marks it again.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lockd/kernel_cache_scope.h"
#include "lockd/os/event_kernel.h"

namespace lockd {

class KernelCache {
 public:
  static constexpr std::size_t kMaxFiles = 16384;

  // Starts by removing every ignore mark the group holds: an earlier decider on the same group
  // (the supervisor keeps it) may have placed them against a database lockd has not loaded yet.
  KernelCache(os::EventKernel& kernel, KernelCacheScope scope, std::size_t max_files = kMaxFiles);

  // The marked local superblocks after a pass over the mount tables (the full list each time).
  // If one that qualified before does not now, every mark is removed before this returns.
  void UpdateSuperblocks(const std::vector<SuperblockState>& superblocks);

  // The database in force changed: every mark is removed, and allows judged before (an older
  // epoch) are no longer offered. If the kernel refuses to remove the marks (here or in
  // UpdateSuperblocks), a failure is counted and no mark is placed again until restart.
  void OnDatabaseSwap();

  // Read before the database an allow is judged against (see Offer).
  std::uint64_t Epoch() const { return epoch_.load(std::memory_order_acquire); }

  // Whether files with this st_dev qualify now (cheap: callers ask before any lookup).
  bool Qualifies(std::uint64_t dev) const;

  // After lockd allowed the file behind `event_fd` (st_dev `dev`) for content alone (see the
  // header), judged with `epoch` = Epoch() read before the database: marks it when its
  // superblock qualifies, the epoch is current and fewer than max_files marks stand. Returns
  // whether a mark was placed.
  bool Offer(int event_fd, std::uint64_t dev, std::uint64_t epoch);

  struct Counters {
    std::uint64_t files = 0;        // marks placed since start
    std::uint64_t standing = 0;     // placed since the last flush (at most max_files)
    std::uint64_t flushes = 0;      // every mark removed (database swap, superblock change)
    std::uint64_t failures = 0;     // marks the kernel refused
    std::uint64_t superblocks = 0;  // qualifying superblocks now
  };
  Counters counters() const;
  KernelCacheScope scope() const { return scope_; }

 private:
  // With mu_ held.
  void FlushLocked();

  os::EventKernel& kernel_;
  const KernelCacheScope scope_;
  const std::size_t max_files_;
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<bool> any_{false};  // qualifying_ is not empty
  mutable std::mutex mu_;
  std::set<std::uint64_t> qualifying_;
  Counters counters_;
  // A flush failed: marks may stand that should not, and none is ever placed again.
  bool broken_ = false;
};

}  // namespace lockd
