#pragma once
// Whether a process has begun to die, from /proc/<pid>/status, for the supervisor's watch on a
// decider that was killed but cannot finish dying (stuck_decider_guard.h).
//
// After SIGKILL (or any fatal signal, or exit_group) every thread of the process gets SIGKILL
// pending and leaves at its next return to user space. A thread that waits uninterruptibly in
// the kernel (a FUSE request its server has read and never answers) never returns: the leader
// exits and shows as a zombie ("State: Z"), but the process cannot be reaped (waitpid reports
// nothing, no SIGCHLD) and its fds, among them the fanotify groups, stay open until that thread
// ends. When the stuck thread is the leader itself, its state stays "D" with SIGKILL pending.
// Either is "dying" here.

#include <sys/types.h>

#include <string>
#include <string_view>

namespace lockd::os {

enum class ProcessLife {
  kAlive,  // running, sleeping or stopped, no fatal signal pending
  kDying,  // leader exited (zombie) or SIGKILL pending: it is on its way out, maybe stuck there
  kGone,   // no such process (already reaped) or /proc unreadable
};

// Parses the text of /proc/<pid>/status: "State:" Z or X, or the SIGKILL bit in "SigPnd:" or
// "ShdPnd:", is kDying; a text without a parseable "State:" line is kGone.
ProcessLife ParseProcessLife(std::string_view status_text);

// Reads /proc/<pid>/status (proc_root is "/proc" except in tests). Never blocks on anything but
// procfs. kGone when it cannot be read.
ProcessLife ReadProcessLife(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace lockd::os
