#pragma once
// The version of a file's content as far as its metadata tells: which file (device, inode) and
// which state of it (size, mtime, ctime, mode, owner). The one "same file version" check of the
// project: the scanner and `lockctl maintenance finish` compare the stat before and after
// hashing with it, lockd compares the event's fstat with the cache's and with its own
// (lockd::FileFacts is this type).
//
// Metadata alone is not proof of unchanged content: timestamps are coarse and a write through a
// shared mapping need not update them at once. Callers that hash add a read lease
// (read_lease.h); lockd's cache argues its other guards in lockd/decision_cache.h.

#include <sys/stat.h>

#include <cstdint>

namespace hashdb {

struct FileVersion {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint32_t mode = 0;  // st_mode
  std::uint32_t uid = 0;   // st_uid: who may rewrite it (lockd's deny_user_writable)

  static FileVersion FromStat(const struct stat& st);

  bool regular() const { return S_ISREG(mode); }

  // Same file and, as far as metadata shows, same content version.
  bool SameVersion(const FileVersion& other) const {
    return dev == other.dev && ino == other.ino && size == other.size &&
           mtime_ns == other.mtime_ns && ctime_ns == other.ctime_ns && mode == other.mode &&
           uid == other.uid;
  }
};

}  // namespace hashdb
