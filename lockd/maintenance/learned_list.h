#pragma once
// The list of files seen during a maintenance window (<state_dir>/maintenance/learned), read
// by `lockctl maintenance finish`. One line per file, way it was seen and kind of writer, per
// session:
//
//   <sha256 hex or "-">\t<how>\t<by>\t<pid>\t<uid or "-">\t<exe as hex or "-">\t<path as hex>\n
//
// how: exec | open | write | updater; by: session | updater | other | unknown (session.h): who
// wrote or ran it. Only session and updater lines are learned; the others are what lockctl
// lists as NOT learned. Paths and executables are the lower-case hex of their raw bytes so
// that no file name (newlines, tabs, invalid UTF-8) can forge a line. Lines are appended with
// one write(2) each, so a crash leaves at most a torn last line, which readers ignore.

#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/maintenance/session.h"

namespace lockd::maintenance {

enum class How { kExec, kOpen, kWrite, kUpdater };
std::string_view HowName(How how);
std::optional<How> HowFromName(std::string_view name);

// Whether a line by this kind of writer is learned (session, updater) or not (other, unknown).
bool IsLearned(By by);

struct LearnedLine {
  std::optional<hashdb::Digest> digest;
  How how = How::kExec;
  By by = By::kSession;
  pid_t pid = 0;     // the writer (or the process that ran it)
  long uid = -1;     // its real uid; -1 unknown
  std::string exe;   // its executable (raw bytes); "" unknown
  std::string path;  // raw bytes
};

std::string FormatLearnedLine(const LearnedLine& line);  // with the final "\n"
// One line without its "\n"; errors name source and line number.
hashdb::Result<LearnedLine> ParseLearnedLine(std::string_view text, const std::string& source,
                                             std::size_t line_no);
// Every complete line of a list (a torn last line is skipped).
hashdb::Result<std::vector<LearnedLine>> ParseLearnedList(std::string_view text,
                                                          const std::string& source);

// The open list of the current session. Not thread-safe: used by the maintenance thread only.
class LearnedList {
 public:
  // truncate: a new session (the file is emptied); otherwise a resumed one (its lines are read
  // back so that deduplication continues). Creates the file 0600.
  static hashdb::Result<LearnedList> Open(const std::string& path, bool truncate);

  // Appends the line unless (how, by, path) was recorded in this session. Returns whether it
  // was added.
  hashdb::Result<bool> Add(const LearnedLine& line);

  std::uint64_t count() const { return seen_.size(); }
  // Lines by session or updater (learned), and by others (not learned).
  std::uint64_t learned() const { return learned_; }
  std::uint64_t not_learned() const { return seen_.size() - learned_; }
  const std::string& path() const { return path_; }

 private:
  LearnedList(std::string path, hashdb::UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  hashdb::UniqueFd fd_;
  std::set<std::tuple<How, By, std::string>> seen_;
  std::uint64_t learned_ = 0;
};

}  // namespace lockd::maintenance
