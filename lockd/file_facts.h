#pragma once
// What lockd knows about a file from fstat of the event fd: the identity and version of its
// content as far as the kernel's metadata can tell. Plain data, no system calls.

#include "hashdb/file_version.h"

namespace lockd {

// dev, ino, size, mtime_ns, ctime_ns, mode, uid; regular(); SameVersion(): the project's one "same
// file version" check (hashdb/file_version.h). SameVersion is not proof of unchanged content
// (coarse timestamps, writes through a shared mapping): see decision_cache.h for what else the
// cache relies on.
using FileFacts = hashdb::FileVersion;

// Whether anyone holds the file open for writing (including a shared writable mapping).
enum class WriterState {
  kNone,     // proven: no open writer at the moment of the check
  kPresent,  // someone has it open for writing
  kUnknown,  // the filesystem cannot tell us (treated like kPresent by the cache)
};

}  // namespace lockd
