#include "hashdb/read_lease.h"

#include <fcntl.h>
#include <signal.h>

#include <cerrno>
#include <utility>

namespace hashdb {

ReadLease ReadLease::Take(int fd) {
  // Taking a lease makes this process the fd's owner, and a lease break would send it SIGIO,
  // whose default action terminates the process. So the break signal is set to SIGURG (ignored
  // by default) first, and the owner is cleared right after (no signal at all).
  if (::fcntl(fd, F_SETSIG, SIGURG) != 0) return ReadLease(fd, LeaseState::kUnavailable);
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETOWN, 0);
    return ReadLease(fd, LeaseState::kHeld);
  }
  return ReadLease(fd, errno == EAGAIN ? LeaseState::kWriterPresent : LeaseState::kUnavailable);
}

ReadLease::ReadLease(ReadLease&& other) noexcept
    : fd_(other.fd_), state_(std::exchange(other.state_, LeaseState::kUnavailable)) {}

ReadLease::~ReadLease() {
  if (state_ == LeaseState::kHeld) ::fcntl(fd_, F_SETLEASE, F_UNLCK);
}

bool ReadLease::StillHeld() const {
  return state_ == LeaseState::kHeld && ::fcntl(fd_, F_GETLEASE) == F_RDLCK;
}

}  // namespace hashdb
