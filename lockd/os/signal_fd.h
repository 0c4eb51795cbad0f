#pragma once
// Signals as file descriptor events (signalfd): SIGTERM, SIGINT (stop) and SIGHUP (reload) are
// blocked in every thread and read by the event loop, so no handler runs at a random point.

#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

class SignalFd {
 public:
  // Blocks the signals in the calling thread (call before starting threads so they inherit
  // the mask) and opens a signalfd for them.
  static hashdb::Result<SignalFd> Create(const std::vector<int>& signals);

  // Next pending signal number, 0 if none.
  int Read();
  int fd() const { return fd_.get(); }

 private:
  explicit SignalFd(hashdb::UniqueFd fd) : fd_(std::move(fd)) {}
  hashdb::UniqueFd fd_;
};

}  // namespace lockd::os
