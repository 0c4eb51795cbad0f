#pragma once
// Hashing one file safely: the one routine behind the database builder's scan (scanner.h) and
// `lockctl maintenance finish`'s hashing of learned files.
//
// Steps, and what each guards against:
//   1. unless the caller has just listed the name as a regular file, fstatat without following
//      links: a symlink, FIFO, socket or device is reported and never opened (opening a FIFO
//      releases a writer waiting in open(2); opening a device can act on it);
//   2. open with O_NOFOLLOW | O_NONBLOCK | O_NOCTTY (and O_NOATIME where permitted): a symlink
//      swapped in meanwhile is not followed, a FIFO or device swapped in does not hang us;
//   3. fstat the descriptor: only a regular file is read, on the expected device if one is given;
//   4. classify (hashdb/classify.h) before taking a lease, so most files, which are not code,
//      are not leased; then, per attempt:
//   5. take a read lease (read_lease.h): refused while anyone has the file open for writing;
//   6. classify again and hash through the descriptor (never re-opened by path);
//   7. fstat again: recorded only if the lease was not broken, the number of bytes hashed is the
//      size, and the file version (file_version.h) is the same as before the hash;
//   8. otherwise try again after a short pause (20 ms x attempt), up to max_attempts.
// Without a lease (not root and not the owner, or a filesystem without leases) only the
// version check of step 7 remains, which misses a write() already in progress at step 6.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hashdb/entry.h"
#include "hashdb/result.h"

namespace hashdb {

struct HashFileOptions {
  int max_attempts = 3;  // hashing attempts for a file that changes while hashed (at least 1)
  // When set, a file on another device is not hashed (kOtherFilesystem).
  std::optional<std::uint64_t> device;
  // The caller listed the name as a regular file just before (readdir's d_type): skip step 1.
  bool listed_regular = false;
};

enum class HashOutcome : std::uint8_t {
  kHashed,           // entry holds the file's digest, kind, size, mode, uid, gid
  kVanished,         // no such file (ENOENT)
  kSymlink,          // a symlink: never followed
  kNotRegular,       // a FIFO, socket, device or directory: never read (not opened unless swapped
                     // in after step 1)
  kOpenFailed,       // open or the fstat after it failed: failed_call, sys_errno
  kOtherFilesystem,  // not on options.device
  kNotCode,          // the classifier does not take it
  kReadFailed,       // reading (classify, hash) or the fstat after the hash failed: error
  kChanged,          // changed, or was open for writing, on every attempt
};

struct HashedFile {
  HashOutcome outcome = HashOutcome::kOpenFailed;
  FileEntry entry;  // kHashed (entry.path is left empty for the caller)
  // kOpenFailed: "open" or "fstat", and its errno.
  const char* failed_call = "";
  int sys_errno = 0;
  Error error;                  // kReadFailed
  bool writer_present = false;  // kChanged: the last attempt found the file open for writing
  int attempts = 0;             // hashing attempts made (from 1 once step 5 is reached)
};

// Hashes name relative to dir_fd (AT_FDCWD: a path). classify_name is what the classifier sees
// for script suffixes (the basename). Thread-safe; blocks for at most the hashing time plus the
// pauses between attempts.
HashedFile HashFileAt(int dir_fd, const std::string& name, std::string_view classify_name,
                      const HashFileOptions& options);

}  // namespace hashdb
