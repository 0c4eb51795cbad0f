#pragma once
// A fake kernel for the event path (lockd/os/event_kernel.h): the event loop and the decider
// run against it without root and without fanotify.
//
// Events refer to real files (each queued event opens its file read-only, so the event fd is a
// real descriptor that hashing reads); what is faked is the queue, the answers, and what the
// kernel says about writers and processes. Answers are recorded by the path their fd was
// opened on, in order.
//
// Thread-safety: every method locks (the decider answers from its workers).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lockd/os/event_kernel.h"

namespace testsupport {

class FakeEventKernel : public lockd::os::EventKernel {
 public:
  struct Answer {
    std::string path;
    bool allow = false;
  };

  // Appends an event for `path` (opened O_RDONLY now) to the queue.
  void Queue(std::uint64_t mask, pid_t pid, const std::string& path);
  // An event whose file the kernel could not open (FanotifyEvent::open_error).
  void QueueUnopenable(std::uint64_t mask, pid_t pid, int error);
  void QueueOverflow();
  // Builds events without queueing them (for EventLoop::HandleEvents).
  static lockd::os::FanotifyEvent Event(std::uint64_t mask, pid_t pid, const std::string& path);
  // Called each time ReadEvents is called (before it takes from the queue), e.g. to queue more
  // events the way a busy kernel would.
  void OnRead(std::function<void()> hook);
  // Largest batch one ReadEvents returns.
  void SetBatchSize(std::size_t n);

  void SetWriters(const std::string& path, lockd::WriterState state);
  // Makes Stat report these facts for the file at path (e.g. metadata put back after a write).
  void SetFacts(const std::string& path, lockd::FileFacts facts);
  void SetProcess(pid_t pid, const std::string& exe, long uid = 0);
  // Overrides the executable identity of a process (ExecutableFacts; by default the stat of
  // the path SetProcess gave, nullopt without one).
  void SetExecutableFacts(pid_t pid, lockd::FileFacts facts);
  // A fixture /proc tree (<root>/<pid>/{cmdline,environ,cwd,root}) that ReadProcessImage and
  // the Resolve methods read with the real code of os/process_args.h; without one every
  // process is gone.
  void SetProcRoot(const std::string& root);
  // How many times OpenExecutable was called (each is one file script coverage hashes itself).
  std::size_t executable_opens() const;

  std::vector<Answer> answers() const;
  // The paths given to IgnoreFile since the last ForgetIgnoredFiles (the files the kernel
  // would now answer for itself), and how many times ForgetIgnoredFiles was called.
  std::vector<std::string> ignored() const;
  std::size_t forgets() const;
  // Of those, the ones whose open events are ignored too (IgnoreFile's opens_too).
  std::vector<std::string> ignored_with_opens() const;
  // Makes IgnoreFile fail (as the kernel would for a full group).
  void RefuseIgnoreMarks(bool refuse);
  // Makes ForgetIgnoredFiles fail and leave every mark standing.
  void RefuseFlush(bool refuse);
  // Waits (at most timeout_ms) until at least n answers were written.
  bool WaitForAnswers(std::size_t n, int timeout_ms = 5000) const;
  std::size_t reads() const;
  std::size_t queued() const;

  // lockd::os::EventKernel
  hashdb::Result<std::vector<lockd::os::FanotifyEvent>> ReadEvents(bool* maybe_more) override;
  hashdb::Status Respond(int event_fd, bool allow) override;
  int PollFd() const override { return -1; }
  hashdb::Status IgnoreFile(int event_fd, bool opens_too) override;
  hashdb::Status UnignoreFile(int event_fd) override;
  hashdb::Status ForgetIgnoredFiles() override;
  hashdb::Result<lockd::FileFacts> Stat(int fd) override;
  lockd::WriterState ProbeWriters(int fd) override;
  hashdb::Result<std::size_t> ReadHead(int fd, std::span<std::uint8_t> buf) override;
  std::string FdPath(int fd) override;
  lockd::os::ProcessFacts Process(pid_t pid) override;
  std::string ExecutablePath(pid_t pid) override;
  std::optional<lockd::FileFacts> ExecutableFacts(pid_t pid) override;
  hashdb::Result<hashdb::UniqueFd> OpenExecutable(pid_t pid) override;
  hashdb::Result<lockd::os::ProcessImage> ReadProcessImage(pid_t pid) override;
  bool ImageAlive(const lockd::os::ProcessImage& image) override;
  lockd::os::Resolved ResolveForProcess(const lockd::os::ProcessImage& image,
                                        const std::string& path) override;
  lockd::os::Resolved ResolveInSearchPath(const lockd::os::ProcessImage& image,
                                          const std::string& name,
                                          const std::string& path_var) override;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable answered_;
  std::deque<lockd::os::FanotifyEvent> queue_;
  std::function<void()> on_read_;
  std::size_t batch_size_ = 1000;
  std::size_t reads_ = 0;
  std::map<std::string, lockd::WriterState> writers_;
  std::map<std::string, lockd::FileFacts> facts_;
  std::map<pid_t, std::string> exe_;
  std::map<pid_t, long> uid_;
  std::map<pid_t, lockd::FileFacts> exe_facts_;
  std::vector<Answer> answers_;
  std::string proc_root_;
  std::size_t executable_opens_ = 0;
  std::vector<std::string> ignored_;
  std::vector<std::string> ignored_with_opens_;
  std::size_t forgets_ = 0;
  bool refuse_ignore_ = false;
  bool refuse_flush_ = false;
};

}  // namespace testsupport
