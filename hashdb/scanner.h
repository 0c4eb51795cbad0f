#pragma once
// The database builder's scan: walks directory trees in parallel, classifies every regular file
// (hashdb/classify.h) and hashes the ones that are code, through the descriptor it opened.
//
// Safety of the walk: every directory and file is opened relative to its parent directory's fd
// with O_NOFOLLOW, so a symlink swapped in during the scan is not followed (symlinks are
// neither followed nor recorded). FIFOs, sockets and devices are never opened: the type from
// readdir (or fstatat when readdir does not know it) is checked before the open, the open uses
// O_NONBLOCK|O_NOCTTY, and fstat after the open confirms a regular file. (Between the check and
// the open, someone able to replace a file with a device node in the tree could make us open
// it; O_NONBLOCK keeps that from hanging.)
//
// Each file is hashed by HashFileAt (hashdb/file_hasher.h, shared with `lockctl maintenance
// finish`). Correctness of digests: each file is hashed under a read lease (read_lease.h) where
// the kernel grants one (as root on local filesystems): no one has it open for writing while
// it is hashed. A file someone holds open for writing is not hashed. In addition, a file is
// recorded only if its version (file_version.h: inode, size, mtime, ctime, mode) is the same
// before and after hashing and the number of bytes hashed equals that size. Otherwise it is
// tried again (up to max_attempts in total, with a short pause) and then reported as skipped
// (kChanged), never recorded with a wrong hash. Without a lease (scanning files one does not
// own, as non-root) only the version check remains, and it misses a single write() already in
// progress when hashing starts, because the kernel stamps mtime at the start of a write.

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/entry.h"
#include "hashdb/result.h"
#include "hashdb/scan_progress.h"

namespace hashdb {

enum class SkipReason : std::uint8_t {
  kOpenFailed,         // open() of a file failed (e.g. EACCES)
  kReadFailed,         // reading the file failed
  kChanged,            // kept changing while hashed, on every attempt
  kVanished,           // removed between listing and opening
  kTypeChanged,        // listed as a regular file, but not one when opened
  kDirectoryFailed,    // a directory could not be opened or listed
  kOtherFilesystem,    // a mount point not crossed (one_file_system)
  kPseudoFilesystem,   // proc, sysfs, cgroup, ...
  kNetworkFilesystem,  // NFS, SMB, FUSE, ...
  kPathTooLong,        // longer than the database allows (4096 bytes)
};
inline constexpr std::size_t kSkipReasonCount = 10;
std::string_view SkipReasonName(SkipReason reason);  // "open-failed", "changed", ...

struct SkippedPath {
  std::string path;  // as it would be recorded (strip_prefix applied), raw bytes
  SkipReason reason;
  std::string detail;  // e.g. "Permission denied", "fs type proc"
};

struct ScanOptions {
  // Directories to scan. A relative root is taken relative to the current directory. A root
  // that is missing, not a directory, or itself a symlink fails the whole scan.
  std::vector<std::string> roots;
  // fnmatch(3) patterns (no flags: '*' also matches '/') on the recorded path, each naming a
  // tree (PathExcluded): a matching directory is not entered, a matching file is not examined,
  // and a root inside an excluded tree is not scanned.
  std::vector<std::string> excludes;
  bool one_file_system = true;  // do not cross into other filesystems below a root
  // Removed from the front of every recorded path (whole components), so that a scan of an
  // image mounted at /mnt/image records /usr/bin/x. Every root must lie under it.
  std::string strip_prefix;
  unsigned threads = 0;                    // 0: one per online CPU
  int max_attempts = 3;                    // hashing attempts for a file that changes while hashed
  std::size_t max_skipped_listed = 10000;  // skipped paths kept in detail; counts stay exact
  // Called from a single thread (never concurrently), about every progress_interval_ms while
  // the scan runs. Must not call back into the scanner.
  std::function<void(const ScanProgress&)> progress;
  // The same reports through an interface (hashdb/scan_progress.h), plus the first pass's count
  // and a final report; may be set together with progress. Not owned; must outlive Scan().
  ScanReporter* reporter = nullptr;
  int progress_interval_ms = 200;
  // Count the regular files first (hashdb/scan_count.h: a listing of the directories, no file
  // opened), so progress reports carry files_total for an estimate of the time left.
  bool count_first = false;
};

struct ScanReport {
  std::uint64_t directories = 0;
  std::uint64_t files_examined = 0;
  std::uint64_t files_recorded = 0;
  std::uint64_t bytes_hashed = 0;    // bytes of the recorded files
  std::uint64_t excluded = 0;        // paths matched by an exclude pattern
  std::uint64_t not_regular = 0;     // symlinks, FIFOs, sockets, devices seen (never opened)
  std::uint64_t not_code = 0;        // regular files the classifier did not include
  std::uint64_t retries = 0;         // hashing attempts repeated because a file changed
  std::vector<SkippedPath> skipped;  // in path order, at most max_skipped_listed
  std::array<std::uint64_t, kSkipReasonCount> skipped_by_reason{};
  std::uint64_t skipped_total = 0;
  double seconds = 0;
  unsigned threads = 0;

  double BytesPerSecond() const { return seconds > 0 ? bytes_hashed / seconds : 0; }
  double FilesPerSecond() const { return seconds > 0 ? files_recorded / seconds : 0; }
};

struct ScanResult {
  std::vector<FileEntry> entries;  // sorted by path, unique paths
  ScanReport report;
};

// Scans. Fails (no partial result) only on bad options or a root that cannot be opened;
// everything below a root that cannot be read is reported in ScanReport::skipped instead.
// Hard links are recorded once per path. Thread-safe; runs its own threads and joins them.
Result<ScanResult> Scan(const ScanOptions& options);

// Whether path (absolute) lies in a tree an exclude pattern names: the pattern (fnmatch(3), no
// flags) matches the path itself or one of its leading directories, cut at a "/". So "/run"
// excludes /run and /run/user/1000/x but not /running; "/home/*/cache" excludes every user's
// cache tree. A trailing "/" on a pattern is ignored. What the scan skips and what
// `lockctl maintenance finish` refuses to take from lockd's learned list agree through this.
bool PathExcluded(std::string_view path, const std::vector<std::string>& patterns);

}  // namespace hashdb
