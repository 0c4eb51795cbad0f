#pragma once
// Decisions the kernel keeps itself: after lockd allows a file because its content is in the
// allowlist, and the file lives on a superblock whose content cannot change, lockd puts an
// ignore mark on the file's inode (os::EventKernel::IgnoreFile). The kernel then answers the
// file's later execs without waking lockd (issue 13). How far it goes depends on the type:
//  - a filesystem type the kernel cannot write at all (squashfs, erofs, iso9660, cramfs,
//    romfs): its opens too. No round trip at all: no remount can make the content change.
//  - any other read-only superblock (ext4 mounted ro, a ro tmpfs): execs only, and the file is
//    *watched*: its opens still come to lockd (the open that follows each exec, and any other),
//    which answers them at once after the writer probe (no head read, no lookup: OnOpen) and,
//    when the probe finds a writer, removes the mark before the writer's open is answered.
//    Every write needs a write open (a write through a shared mapping too), and the kernel
//    counts the writer before it raises the open's event; while a writer is counted an exec
//    fails with ETXTBSY. So root making the superblock writable (fspick + fsconfig, which no
//    table change reports), rewriting the file through a mapping and making it read-only again
//    cannot leave the mark on changed content (kernel_cache_attack_test): the rewrite's open
//    removed it. An exec then costs one round trip instead of two.
//
// When it is safe (docs/threat-model.md, "Ignore marks"):
//  - the superblock is read-only (its "ro" super option, not only the mount's): nothing can
//    write the file through any mount; and it is mounted in lockd's own mount namespace, so
//    the initial user namespace owns it (a user who owns a superblock through a user namespace
//    can make it writable again at will: kernel_cache_userns_test); scope kReadOnly takes every
//    such superblock, scope kImmutable only filesystem types without write support (squashfs,
//    erofs, iso9660, cramfs, romfs), which cannot be made writable at all;
//  - the decision rests on the content alone and holds for every opener: reason kAllowlisted
//    (allowed in every mode), never an interpreter (script coverage must see its execs), never
//    on FUSE or network filesystems (another group, another decider);
//  - the database that allowed it is still in force: a swap removes every mark first
//    (OnDatabaseSwap), and an allow judged against the old database is not marked after it
//    (the epoch, taken before the database, like the decision cache's ticket);
//  - the superblock is still read-only: a superblock that stops qualifying (remounted
//    read-write, or gone) removes every mark before anything else (UpdateSuperblocks, after
//    each pass over the mount tables: on mount-table changes and once a second). A superblock
//    made writable without a table change (fspick + fsconfig) is caught by the watch above on
//    a writable type, and cannot happen on an immutable one;
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
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lockd/file_facts.h"
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

  // After lockd allowed the file behind `event_fd` (version `version`) for content alone (see
  // the header), judged with `epoch` = Epoch() read before the database: marks it when its
  // superblock qualifies, the epoch is current and fewer than max_files marks stand. On a
  // superblock of a writable type the file is watched first, and the mark is removed again at
  // once if the writer probe then finds a writer (a writer that opened before could still
  // write through a mapping). Returns whether a mark stands.
  bool Offer(int event_fd, const FileFacts& version, std::uint64_t epoch);

  // A plain open (FAN_OPEN_PERM) of a file whose version `now` the kernel read for lockd, on
  // the event loop. kNotWatched: no mark of ours on it, decide as usual. kAllow: a watched file,
  // same version, no writer: allowlisted content nobody can change now, allow at once. kJudge:
  // a watched file with a writer (or a changed version, or an unsure probe): its mark is
  // removed before this returns (every later exec comes to lockd), decide the open as usual.
  // kDeny: the kernel refused to remove the mark and every mark (never seen): the writer's open
  // is refused rather than let it change content the kernel would still run unasked.
  enum class OpenVerdict { kNotWatched, kAllow, kJudge, kDeny };
  OpenVerdict OnOpen(int event_fd, const FileFacts& now);

  struct Counters {
    std::uint64_t files = 0;        // marks placed since start
    std::uint64_t standing = 0;     // placed since the last flush (at most max_files)
    std::uint64_t flushes = 0;      // every mark removed (database swap, superblock change)
    std::uint64_t failures = 0;     // marks the kernel refused
    std::uint64_t superblocks = 0;  // qualifying superblocks now
    std::uint64_t unwatched = 0;    // marks removed because a writer opened the file
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
  // Qualifying superblocks: dev -> whether opens may be left to the kernel too (immutable).
  std::map<std::uint64_t, bool> qualifying_;
  // Files marked for execs only, by (dev, ino), with the version they were allowed as.
  std::map<std::pair<std::uint64_t, std::uint64_t>, FileFacts> watched_;
  std::atomic<bool> any_watched_{false};
  Counters counters_;
  // A flush failed: marks may stand that should not, and none is ever placed again.
  bool broken_ = false;
};

}  // namespace lockd
