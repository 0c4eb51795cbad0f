#pragma once
// One node of the process tree from /proc/<pid>, for telling the maintenance session's
// processes from the others (lockd/maintenance/session.h). Reads procfs only, which lockd
// never marks: safe on the event loop thread, whose opens of marked filesystems would wait for
// the loop itself (lockd/maintenance/controller.h, OnWrite).
//
// A pid alone does not name a process (pids are reused, pid_max may be 32768): a node carries
// its start time, and (pid, start time) does.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lockd::os {

struct ProcNode {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat: clock ticks after boot
  // The kernel's audit login session (/proc/<pid>/sessionid): set by pam_loginuid at login,
  // inherited by every child, kept across setsid(2) and sudo, and never settable to another
  // login's value (a new loginuid gets a fresh id). nullopt when unset (4294967295: services
  // started by init) or unreadable (a kernel without audit).
  std::optional<std::uint32_t> login_session;
};

// Parses the text of /proc/<pid>/stat (comm may hold spaces and ')': fields are counted from
// the last ')'). nullopt when it is not well formed.
std::optional<ProcNode> ParseProcStat(std::string_view stat);

// Where nodes come from: /proc, or a fake in tests.
class ProcessSource {
 public:
  virtual ~ProcessSource() = default;
  // nullopt when the process does not exist (any more).
  virtual std::optional<ProcNode> Read(pid_t pid) const = 0;
};

class ProcFs : public ProcessSource {
 public:
  explicit ProcFs(std::string root = "/proc") : root_(std::move(root)) {}
  std::optional<ProcNode> Read(pid_t pid) const override;

 private:
  std::string root_;
};

}  // namespace lockd::os
