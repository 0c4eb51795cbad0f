#pragma once
// A read lease (fcntl F_SETLEASE F_RDLCK) held while a file is hashed. The kernel grants it only
// when no one has the file open for writing (including shared writable mappings), and while it
// is held an open for writing blocks until the lease is released (or broken after
// /proc/sys/fs/lease-break-time seconds, which StillHeld detects). So a digest computed under a
// held lease is the digest of one whole, unchanging content: unlike size/mtime/ctime checks,
// this also catches a write() that was already in progress when the hash started.
//
// Needs ownership of the file or CAP_LEASE (root has it) and a filesystem that supports leases.
// A lease break signals nothing: Take sets the fd's break signal to SIGURG (ignored by default)
// and clears its owner. A process using this must not handle SIGURG itself.

namespace hashdb {

enum class LeaseState {
  kHeld,           // lease granted; released by the destructor
  kWriterPresent,  // someone has the file open for writing (EAGAIN)
  kUnavailable,    // not permitted or not supported; fall back to timestamp checks
};

class ReadLease {
 public:
  // fd must be open read-only.
  static ReadLease Take(int fd);
  ~ReadLease();
  ReadLease(const ReadLease&) = delete;
  ReadLease& operator=(const ReadLease&) = delete;
  ReadLease(ReadLease&& other) noexcept;

  LeaseState state() const { return state_; }
  // kHeld and not broken by a writer since Take.
  bool StillHeld() const;

 private:
  ReadLease(int fd, LeaseState state) : fd_(fd), state_(state) {}
  int fd_;
  LeaseState state_;
};

}  // namespace hashdb
