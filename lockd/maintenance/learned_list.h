#pragma once
// The list of files learned during a maintenance window (<state_dir>/maintenance/learned), read
// by `lockctl maintenance finish`. One line per file and way it was seen, per session:
//
//   <sha256 lower-case hex, or "-">\t<how>\t<path as lower-case hex of its raw bytes>\n
//
// how: exec | open | write | updater (see lockd/control/server.h). The path is hex so that no
// file name (newlines, tabs, invalid UTF-8) can forge a line. Lines are appended with one
// write(2) each, so a crash leaves at most a torn last line, which readers ignore.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::maintenance {

enum class How { kExec, kOpen, kWrite, kUpdater };
std::string_view HowName(How how);
std::optional<How> HowFromName(std::string_view name);

struct LearnedLine {
  std::optional<hashdb::Digest> digest;
  How how = How::kExec;
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

  // Appends the line unless (how, path) was recorded in this session. Returns whether it was
  // added.
  hashdb::Result<bool> Add(const LearnedLine& line);

  std::uint64_t count() const { return seen_.size(); }
  const std::string& path() const { return path_; }

 private:
  LearnedList(std::string path, hashdb::UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  hashdb::UniqueFd fd_;
  std::set<std::pair<How, std::string>> seen_;
};

}  // namespace lockd::maintenance
