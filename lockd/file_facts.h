#pragma once
// What lockd knows about a file from fstat of the event fd: the identity and version of its
// content as far as the kernel's metadata can tell. Plain data, no system calls.

#include <sys/types.h>

#include <cstdint>

namespace lockd {

struct FileFacts {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint32_t mode = 0;  // st_mode
  bool regular() const;

  // Same file and, as far as metadata shows, same content version. Metadata alone is not
  // proof of unchanged content (coarse timestamps, writes through a shared mapping): see
  // decision_cache.h for what else the cache relies on.
  bool SameVersion(const FileFacts& other) const {
    return dev == other.dev && ino == other.ino && size == other.size &&
           mtime_ns == other.mtime_ns && ctime_ns == other.ctime_ns && mode == other.mode;
  }
};

// Whether anyone holds the file open for writing (including a shared writable mapping).
enum class WriterState {
  kNone,     // proven: no open writer at the moment of the check
  kPresent,  // someone has it open for writing
  kUnknown,  // the filesystem cannot tell us (treated like kPresent by the cache)
};

}  // namespace lockd
