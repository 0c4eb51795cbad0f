#pragma once
// Shared by `lockctl db build` and `lockctl maintenance finish`: the scan summary they print.

#include <ostream>

#include "hashdb/scanner.h"

namespace lockctl {

// "scan: ..., recorded: ..., examined: ..., skipped: ..." lines, skipped paths capped at 50.
void PrintScanSummary(const hashdb::ScanResult& scan, std::ostream& out);

}  // namespace lockctl
