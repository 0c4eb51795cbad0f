#pragma once
// The system calls behind the coverage rules (lockd/coverage.h) for one FAN_OPEN_PERM event:
// the first bytes of the file through the event fd, and the executable of the opening process.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "hashdb/result.h"

namespace lockd::os {

// pread of up to buf.size() bytes from offset 0 of fd (never the path; the fd's offset is left
// alone). Returns the number of bytes read (less at end of file).
hashdb::Result<std::size_t> ReadHead(int fd, std::span<std::uint8_t> buf);

// readlink of <proc_root>/<pid>/exe: the executable of a process blocked in an open (it cannot
// exec while blocked; another thread's exec kills it first). "" when unreadable (the process
// is gone, or a kernel thread).
std::string ProcessExe(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace lockd::os
