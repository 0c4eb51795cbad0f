#pragma once
// What the scanner (hashdb/scanner.h) tells a progress display while it runs, and the
// interface that receives it. The scanner only counts; formatting, rates and estimates belong
// to the receiver (lockctl's tools/progress.h), so this stays free of terminals and clocks
// other than the elapsed time.

#include <cstdint>

namespace hashdb {

struct ScanProgress {
  std::uint64_t directories = 0;
  std::uint64_t files_examined = 0;  // regular files looked at
  std::uint64_t files_recorded = 0;
  std::uint64_t bytes_hashed = 0;
  std::uint64_t skipped = 0;
  // Regular files the first pass counted (ScanOptions::count_first); 0: not counted. The scan
  // may examine a few more or fewer (files created or removed meanwhile, files that vanish or
  // cannot be opened), so a receiver must not assume files_examined <= files_total.
  std::uint64_t files_total = 0;
  double seconds = 0;  // since the scan (not the count) started
};

// Receives a scan's progress. The scanner calls it from one thread at a time, never
// concurrently, and never after Scan() returned. An implementation must not call back into the
// scanner and should return quickly (it delays the next report, never the hashing).
class ScanReporter {
 public:
  virtual ~ScanReporter() = default;
  // During the first pass (count_first), about every progress interval: files counted so far.
  // Called once more with done = true and the final count before the scan starts.
  virtual void Counted(std::uint64_t files, bool done) = 0;
  // About every progress interval while the scan runs.
  virtual void Progress(const ScanProgress& progress) = 0;
  // Once, after the last file, with the final counts (files_recorded: unique paths recorded).
  virtual void Finished(const ScanProgress& progress) = 0;
};

}  // namespace hashdb
