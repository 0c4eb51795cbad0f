#pragma once
// Facts about a process from /proc/<pid>, for the log line of a decision. Best effort: a
// process may exit at any time, so missing facts are empty/-1, never an error. These facts
// are for people reading logs; no decision depends on them (a process controls its own name
// and can race /proc).

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace lockd::os {

struct ProcessFacts {
  pid_t pid = 0;
  pid_t ppid = -1;
  long uid = -1;    // real uid
  std::string exe;  // readlink of /proc/<pid>/exe; raw bytes, escape before logging
  // Controlling terminal: tty_nr of /proc/<pid>/stat (device number as st_rdev encodes it),
  // 0 when the process has none. Used only to show a deny notice there (lockd/tty_notice.h).
  std::uint64_t tty_nr = 0;
};

// proc_root is "/proc" except in tests.
ProcessFacts ReadProcessFacts(pid_t pid, const std::string& proc_root = "/proc");

// readlink(2) of a path into a string; "" on failure. Reads at most 4096 bytes.
std::string ReadLink(const std::string& path);

// The path an open fd refers to, from /proc/self/fd/N (what the kernel shows: may end in
// " (deleted)"). "" on failure.
std::string FdPath(int fd);

}  // namespace lockd::os
