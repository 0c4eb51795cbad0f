#pragma once
// The scanner's optional first pass (ScanOptions::count_first): how many regular files the
// scan will examine, so that a progress display can show a fraction and an estimate of the
// time left. It only lists directories (readdir; fstatat when readdir does not give the
// type), never opens a file, and follows the scan's rules: same excludes, same strip prefix
// for matching them, no symlinks followed, mount points not crossed under one_file_system,
// pseudo and network filesystems not entered. A directory it cannot open is not counted; the
// count is an estimate and never fails the scan. On a cold cache it also reads the directory
// blocks the scan needs next, so it costs less than it seems.

#include <cstdint>
#include <string>
#include <vector>

#include "hashdb/scan_progress.h"

namespace hashdb {

struct CountOptions {
  std::vector<std::string> roots;  // absolute, normalized (as Scan normalizes them)
  std::string strip;               // normalized strip prefix, "" for none
  std::vector<std::string> excludes;
  bool one_file_system = true;
  ScanReporter* reporter = nullptr;  // Counted(n, false) about every interval_ms
  int interval_ms = 200;
};

// Regular files under the roots that the scan would examine (before excludes of files
// already removed by then). Calls reporter->Counted(total, true) at the end when set.
std::uint64_t CountScanFiles(const CountOptions& options);

}  // namespace hashdb
