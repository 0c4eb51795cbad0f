#pragma once
// The decision cache: the verdict of content already hashed, keyed by inode, valid only for the
// exact version judged.
//
// Invariant (SPEC): a file changed after it was judged is never allowed from a stale entry,
// however it was changed. Metadata alone cannot promise that: timestamps are coarse on some
// filesystems (vfat: 2 s) and a write through a shared mapping changes neither mtime nor ctime
// on tmpfs. So an entry is used only when all of these hold (the first two are enforced by the
// caller, exec_decider.cpp; the rest here):
//  1. the filesystem carries a FAN_MARK_FILESYSTEM mark with FAN_MODIFY | FAN_CLOSE_WRITE, so
//     every write to the inode from any mount or namespace produces an event (mount-marked
//     filesystems are never cached);
//  2. at lookup, nobody holds the file open for writing (read-lease probe; a shared writable
//     mapping counts), and the event queue was drained after that probe, so the CLOSE_WRITE of
//     any writer that has gone away has already been applied through Invalidate;
//  3. fstat of the event fd equals the judged version (dev, ino, size, mtime, ctime, mode):
//     catches truncate(2) and anything else that changes metadata;
//  4. no Invalidate of the inode happened since the judgement started (Begin() ticket), so a
//     write during the hash cannot leave an entry behind.
// This cache places no kernel ignore mark (one would answer without any of these checks);
// lockd/kernel_cache.h places them only on superblocks whose content cannot change.
//
// Thread-safety: all methods may be called from any thread. Bounded: at most `capacity`
// entries and kMaxTombstones remembered invalidations.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "hashdb/database.h"
#include "hashdb/digest.h"
#include "lockd/decision.h"
#include "lockd/file_facts.h"

namespace lockd {

// What the cache remembers about one judged version: the content judgement, which does not
// depend on the mode (the mode is applied at every use).
struct CachedJudgement {
  FileFacts facts;
  Reason reason = Reason::kNotInAllowlist;
  hashdb::Digest digest{};
};

class DecisionCache {
 public:
  explicit DecisionCache(std::size_t capacity = 65536);

  // Call before the first fstat of a judgement whose result may be inserted.
  std::uint64_t Begin();
  // The judgement of this exact version, if cached. A stale entry for the inode is dropped.
  std::optional<CachedJudgement> Lookup(const FileFacts& now);
  // Stores a judgement started with `ticket`. Refused (returns false) when the inode was
  // invalidated after Begin, or the judgement is of a kind never cached (read failure,
  // change while hashing).
  bool Insert(const CachedJudgement& judgement, std::uint64_t ticket);
  // Whether the inode was invalidated after `ticket` (for in-flight judgements).
  bool InvalidatedSince(std::uint64_t dev, std::uint64_t ino, std::uint64_t ticket);
  // Content of the inode may have changed (FAN_MODIFY / FAN_CLOSE_WRITE).
  void Invalidate(std::uint64_t dev, std::uint64_t ino);
  // Drops everything (database swap, mode change).
  void Clear();
  // Drops every entry of one st_dev: its superblock was unmounted, or lockd just marked a
  // superblock with that number (which may have been reused by a new filesystem).
  void ForgetDevice(std::uint64_t dev);

  std::size_t size() const;
  std::uint64_t hits() const;
  std::uint64_t misses() const;

  static constexpr std::size_t kMaxTombstones = 4096;

 private:
  struct Key {
    std::uint64_t dev;
    std::uint64_t ino;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>()(k.ino * 0x9e3779b97f4a7c15ULL ^ k.dev);
    }
  };
  bool InvalidatedSinceLocked(const Key& key, std::uint64_t ticket) const;

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Key, CachedJudgement, KeyHash> entries_;
  // Sequence number of the last invalidation of an inode; older than floor_ is forgotten, and
  // a ticket older than floor_ is treated as invalidated.
  std::unordered_map<Key, std::uint64_t, KeyHash> tombstones_;
  std::uint64_t seq_ = 1;
  std::uint64_t floor_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace lockd
