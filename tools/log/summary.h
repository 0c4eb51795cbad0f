#pragma once
// `lockctl log summary`: the would-deny (or deny) records of the audit log grouped by what was
// blocked, with a proposal for each group, for the step from audit mode to enforcement
// (docs/runbook.md, "From audit to enforce").
//
// A group is one content at one place: (sha256, path). Inside it: how often, first and last
// time, the uids, and the programs that executed or opened it (the record's `exe`: for a
// script read by an interpreter, the interpreter; for a program started from a shell, the
// shell — the audit record does not say which access it was), the reasons and the modes.
//
// Counts are denials, not records: the records are read by exporttool::ReadBlockEvent, the
// export's and the fleet report's own reading, so a `repeat` record (docs/audit-log.md,
// "Repeats") adds its `count` to the group of its `of` verdict over its first_time..last_time.
// A repeat's key includes the uid, so its count goes to that uid; it names only the program of
// its last denial, so its count is attributed to that program. Security consequence: read as
// one record each, a flood of thousands of denials would look like a single event.
//
// The proposals are rules, not judgement (docs/runbook.md lists them), applied in this order:
//   none           every record was written inside a maintenance window (learned there);
//   keep-blocked   untrusted-filesystem or writable-by-user: the policy refuses it whatever
//                  its content;
//   check          lockd could not hash a stable content (read-failed, changed-while-hashing,
//                  not-regular-file, or no sha256);
//   investigate    from a writable place (/tmp, /var/tmp, /dev/shm, /home, /root, /run/user,
//                  removable media): not installed software;
//   review         the database in force has another content at this path (changed after
//                  the baseline); or run by a person's account (uid >= 1000) in a software
//                  location; or in no known location;
//   add-to-baseline  in a software location (a baseline root, or /usr, /opt, /bin, /sbin,
//                  /lib*, /etc, /boot, /srv), by system accounts only.
// A location is decided by the longest matching directory, so a baseline root under /tmp
// (a test sandbox) counts as software, and /tmp under a baseline root "/" as writable.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tools/export/audit_facts.h"

namespace lockctl::logsummary {

struct Group {
  std::string sha256, path;
  std::uint64_t count = 0;                           // denials
  std::uint64_t repeat_records = 0, in_repeats = 0;  // repeat records, the denials they count
  std::string first, last;                           // of the first and the last denial
  std::map<std::string, std::uint64_t> uids;         // uid -> denials
  std::map<std::string, std::uint64_t> programs;     // exe -> denials (at most kMaxPrograms)
  bool more_programs = false;
  std::set<std::string> reasons, modes, types;
};

// Keeps memory bounded whatever the log: programs per group beyond this are counted as "more".
inline constexpr std::size_t kMaxPrograms = 8;

struct Context {
  std::vector<std::string> baseline_roots;     // from lockd.toml (maintenance rescans these)
  std::vector<std::string> baseline_excludes;  // fnmatch(3) patterns the rescan skips
  // The database in force, when readable: path -> sha256 hex, for "changed since the
  // baseline". nullopt when no database was read.
  std::optional<std::map<std::string, std::string>> database_paths;
};

enum class Action { kInvestigate, kCheck, kKeepBlocked, kReview, kAddToBaseline, kNone };
std::string_view ActionName(Action a);  // "investigate", "add-to-baseline", ...

struct Proposal {
  Action action = Action::kReview;
  std::string why;  // one sentence for people (paths escaped for a terminal)
};

Proposal Propose(const Group& group, const Context& context);

class Summary {
 public:
  // A deny / would_deny record (count 1) or a repeat record (its count; one of count 0 is
  // counted as a repeat record and adds no denial and no group).
  void Add(const exporttool::BlockEvent& b);
  // Groups sorted by action (as in the enum), then most records first, then path.
  struct Entry {
    Group group;
    Proposal proposal;
    std::uint64_t paths_with_digest = 0;  // distinct paths this sha256 was blocked at
    std::uint64_t digests_at_path = 0;    // distinct contents blocked at this path
  };
  std::vector<Entry> Finish(const Context& context) const;
  std::uint64_t denials() const { return denials_; }
  std::uint64_t repeat_records() const { return repeat_records_; }
  std::uint64_t in_repeats() const { return in_repeats_; }  // denials from repeat records
  const std::string& first() const { return first_; }
  const std::string& last() const { return last_; }

 private:
  std::map<std::pair<std::string, std::string>, Group> groups_;  // (sha256, path)
  std::uint64_t denials_ = 0, repeat_records_ = 0, in_repeats_ = 0;
  std::string first_, last_;
};

struct RenderInfo {
  std::vector<std::string> types;  // record types summarised
  std::vector<std::string> files;  // log files read
  std::string config, database;    // where roots and the baseline came from ("" none)
  std::vector<std::string> baseline_roots;
  std::uint64_t unreadable_lines = 0;
};

std::string RenderText(const Summary& s, const std::vector<Summary::Entry>& entries,
                       const RenderInfo& info);
std::string RenderJson(const Summary& s, const std::vector<Summary::Entry>& entries,
                       const RenderInfo& info);

}  // namespace lockctl::logsummary
