#pragma once
// Reading mount tables: lockd's own, watched for changes, and any process's.
// The kernel flags /proc/self/mountinfo with POLLPRI | POLLERR whenever a mount appears or
// disappears; the event loop polls fd() and re-reads the tables when it fires (and also on a
// timer, so a missed wakeup costs at most a second).

#include <sys/types.h>

#include <string>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/os/mountinfo.h"

namespace lockd::os {

// Reads and parses a whole mountinfo file (e.g. /proc/<pid>/mountinfo). Bounded at 64 MiB.
hashdb::Result<MountTable> ReadMountInfoFile(const std::string& path);

class MountWatcher {
 public:
  // path is /proc/self/mountinfo except in tests.
  static hashdb::Result<MountWatcher> Open(const std::string& path = "/proc/self/mountinfo");

  // Re-reads and parses the whole table from the start. Clears the pending POLLPRI.
  hashdb::Result<MountTable> Read();

  // Poll for POLLPRI | POLLERR on this fd.
  int fd() const { return fd_.get(); }

 private:
  MountWatcher(hashdb::UniqueFd fd, std::string path)
      : fd_(std::move(fd)), path_(std::move(path)) {}
  hashdb::UniqueFd fd_;
  std::string path_;
};

}  // namespace lockd::os
