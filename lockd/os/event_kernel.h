#pragma once
// EventKernel: everything the event path (event loop, decider, startup responder, the
// supervisor's down mode) asks of the kernel, as one small interface. The real one is
// os::LinuxEventKernel (a fanotify group, fstat, leases, pread, /proc); the fake in
// tests/support/fake_event_kernel.h lets the loop and the decider be tested without root.
//
// Event fds are real file descriptors in both (the fake hands out fds of ordinary files), so
// hashing reads them directly; what the interface hides is where events come from, how answers
// reach the kernel, and what the kernel says about files and processes.
//
// Thread-safety: every method may be called from any thread (the loop reads, workers answer).

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/file_facts.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/process_args.h"
#include "lockd/os/process_info.h"

namespace lockd::os {

class EventKernel {
 public:
  virtual ~EventKernel() = default;

  // --- the fanotify group ---
  // One non-blocking read of queued events (empty when none); *maybe_more when more may be
  // queued. See FanotifyGroup::ReadEvents.
  virtual hashdb::Result<std::vector<FanotifyEvent>> ReadEvents(bool* maybe_more) = 0;
  // Answers a permission event by its fd (before the fd is closed).
  virtual hashdb::Status Respond(int event_fd, bool allow) = 0;
  // The group's fd, for poll (-1 in fakes without one).
  virtual int PollFd() const = 0;
  // The kernel answers later exec events (and with opens_too open events) of the event's file
  // itself (an ignore mark, FanotifyGroup::IgnoreFile); only for content that cannot change
  // (kernel_cache.h). UnignoreFile removes it.
  virtual hashdb::Status IgnoreFile(int event_fd, bool opens_too) = 0;
  virtual hashdb::Status UnignoreFile(int event_fd) = 0;
  // Every file given to IgnoreFile is decided by lockd again from its next event.
  virtual hashdb::Status ForgetIgnoredFiles() = 0;

  // --- the file behind an event fd ---
  virtual hashdb::Result<FileFacts> Stat(int fd) = 0;
  // Whether the file is open for writing anywhere (read-lease probe, file_probe.h).
  virtual WriterState ProbeWriters(int fd) = 0;
  // pread of the first bytes; the number read.
  virtual hashdb::Result<std::size_t> ReadHead(int fd, std::span<std::uint8_t> buf) = 0;
  // The path the kernel shows for the fd ("" when unknown).
  virtual std::string FdPath(int fd) = 0;

  // --- the process behind an event ---
  // Facts for the log and the deny notice (best effort: empty when gone).
  virtual ProcessFacts Process(pid_t pid) = 0;
  // The path of the process's executable ("" when unreadable).
  virtual std::string ExecutablePath(pid_t pid) = 0;
  // The identity of the process's executable (stat of /proc/<pid>/exe: the very file it runs,
  // whatever its name), nullopt when unreadable. From the attributes the kernel has cached: no
  // request to a FUSE or network server (callable on the loop thread).
  virtual std::optional<FileFacts> ExecutableFacts(pid_t pid) = 0;
  // Opens the process's executable for reading. The open raises a permission event of lockd's
  // own and the read may wait on the filesystem: never on the loop thread (script coverage's
  // background hasher only).
  virtual hashdb::Result<hashdb::UniqueFd> OpenExecutable(pid_t pid) = 0;

  // --- what a process was told to run (script coverage, lockd/script_coverage.h) ---
  // Its command line and environment, with the image pinned (os/process_args.h). Reads /proc
  // only (never a file on a marked filesystem).
  virtual hashdb::Result<ProcessImage> ReadProcessImage(pid_t pid) = 0;
  // Whether `image` is still the address space the process runs (false after exec or exit).
  virtual bool ImageAlive(const ProcessImage& image) = 0;
  // `path` resolved as the process resolves it (its cwd and root), from the dentry cache only;
  // and a name looked up in `path_var` like a shell's $PATH (os/process_args.h).
  virtual Resolved ResolveForProcess(const ProcessImage& image, const std::string& path) = 0;
  virtual Resolved ResolveInSearchPath(const ProcessImage& image, const std::string& name,
                                       const std::string& path_var) = 0;
};

// The real kernel, over a fanotify group (which must outlive it).
class LinuxEventKernel final : public EventKernel {
 public:
  explicit LinuxEventKernel(FanotifyGroup& group) : group_(group) {}

  hashdb::Result<std::vector<FanotifyEvent>> ReadEvents(bool* maybe_more) override;
  hashdb::Status Respond(int event_fd, bool allow) override;
  int PollFd() const override;
  hashdb::Status IgnoreFile(int event_fd, bool opens_too) override;
  hashdb::Status UnignoreFile(int event_fd) override;
  hashdb::Status ForgetIgnoredFiles() override;
  hashdb::Result<FileFacts> Stat(int fd) override;
  WriterState ProbeWriters(int fd) override;
  hashdb::Result<std::size_t> ReadHead(int fd, std::span<std::uint8_t> buf) override;
  std::string FdPath(int fd) override;
  ProcessFacts Process(pid_t pid) override;
  std::string ExecutablePath(pid_t pid) override;
  std::optional<FileFacts> ExecutableFacts(pid_t pid) override;
  hashdb::Result<hashdb::UniqueFd> OpenExecutable(pid_t pid) override;
  hashdb::Result<ProcessImage> ReadProcessImage(pid_t pid) override;
  bool ImageAlive(const ProcessImage& image) override;
  Resolved ResolveForProcess(const ProcessImage& image, const std::string& path) override;
  Resolved ResolveInSearchPath(const ProcessImage& image, const std::string& name,
                               const std::string& path_var) override;

  FanotifyGroup& group() { return group_; }

 private:
  FanotifyGroup& group_;
};

}  // namespace lockd::os
