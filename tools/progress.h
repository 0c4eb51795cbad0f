#pragma once
// Progress of `lockctl db build` and of `lockctl maintenance finish`'s rescan (issue 15 item
// 1): a live line on a terminal, JSON lines for a vendor's tooling, or nothing. The scanner
// feeds a hashdb::ScanReporter (hashdb/scan_progress.h); everything here is pure formatting on
// an ostream, tested without a terminal.
//
// --progress=auto (the default) is tty when stderr is a terminal and none otherwise, so a
// script or a log file never receives carriage returns. Progress always goes to stderr; the
// command's results stay on stdout.
//
// JSON lines (--progress=json), one object per line, members in this order:
//   {"event":"count","task":T,"files_counted":N,"done":B}          first pass, counting files
//   {"event":"progress","task":T,"files_examined":N,"files_total":N,"files_recorded":N,
//    "bytes_hashed":N,"bytes_per_second":X,"skipped":N,"directories":N,
//    "elapsed_ms":N,"eta_seconds":N|null}                           about every 200 ms
//   {"event":"done", ... the same members as progress, eta_seconds 0}  once, at the end
// T is "db-build" or "maintenance-rescan"; every number is an unsigned integer (rates rounded
// down, eta_seconds rounded up), so the strictest JSON reader takes them. files_total is the
// first pass's count (files may appear or go meanwhile: files_examined can exceed it).
// eta_seconds is null until an estimate exists.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "hashdb/result.h"
#include "hashdb/scan_progress.h"

namespace lockctl {

enum class ProgressMode { kNone, kTty, kJson };

// The value of --progress: "auto" (kTty when err_is_tty, else kNone), "none", "tty", "json".
// Anything else is an error naming the accepted values.
hashdb::Result<ProgressMode> ParseProgressMode(std::string_view value, bool err_is_tty);

// Seconds left, from the files still to examine at the rate files were examined so far.
// nullopt without a count, before the first file or in the first 0.5 s (too little to go on).
// 0 once the count is reached.
std::optional<double> EstimateSecondsLeft(const hashdb::ScanProgress& p);

// "1:05:09", "4:02", "0:07"; "--:--" for nullopt.
std::string FormatDuration(std::optional<double> seconds);

// The terminal line without control characters, e.g.
// "db build: 1234/5678 files (21%), 1.20 GB at 300.0 MB/s, 3 skipped, 0:42 left".
std::string TtyProgressText(std::string_view task, const hashdb::ScanProgress& p);
// "db build: counting files: 12345" (done: "... 12345 to examine").
std::string TtyCountText(std::string_view task, std::uint64_t files, bool done);

// One JSON line each (with the newline), as documented above.
std::string JsonCountLine(std::string_view task, std::uint64_t files, bool done);
std::string JsonProgressLine(std::string_view event, std::string_view task,
                             const hashdb::ScanProgress& p);

// Writes progress to out (stderr) in the given mode. kTty redraws one line ("\r\033[K" +
// text) and clears it when finished, leaving the terminal as it was; kJson writes one line per
// report; kNone writes nothing. task: "db-build" or "maintenance-rescan" (shown with spaces on
// a terminal). Flushes after every write.
class StreamProgressReporter : public hashdb::ScanReporter {
 public:
  StreamProgressReporter(ProgressMode mode, std::string task, std::ostream& out);
  void Counted(std::uint64_t files, bool done) override;
  void Progress(const hashdb::ScanProgress& progress) override;
  void Finished(const hashdb::ScanProgress& progress) override;

 private:
  void Draw(const std::string& text);
  const ProgressMode mode_;
  const std::string task_;
  std::ostream& out_;
  bool drawn_ = false;
};

}  // namespace lockctl
