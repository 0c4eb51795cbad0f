#pragma once
// A process table for tests of the maintenance session (lockd/maintenance/session.h): pids,
// parents, start times and login sessions set by hand; Read of a pid not added is "gone".
#include <map>

#include "lockd/os/process_tree.h"

namespace testsupport {

class FakeProcs : public lockd::os::ProcessSource {
 public:
  // Adds (or replaces) a process; login 0 means no login session.
  FakeProcs& Add(pid_t pid, pid_t ppid, std::uint64_t start, std::uint32_t login = 0) {
    lockd::os::ProcNode n;
    n.pid = pid;
    n.ppid = ppid;
    n.start_time = start;
    if (login != 0) n.login_session = login;
    nodes_[pid] = n;
    return *this;
  }
  void Remove(pid_t pid) { nodes_.erase(pid); }
  std::optional<lockd::os::ProcNode> Read(pid_t pid) const override {
    auto it = nodes_.find(pid);
    if (it == nodes_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<pid_t, lockd::os::ProcNode> nodes_;
};

}  // namespace testsupport
