#pragma once
// ExecFollowUps: one refused exec, one record (issue 12 item 7).
//
// A refused exec is usually followed by an open of the same file by the same process: the
// kernel raises FAN_OPEN_PERM after FAN_OPEN_EXEC_PERM when the exec goes on (audit mode), and
// a shell whose execve failed opens the file to explain why (bash reads its head). Both opens
// are decided like any other (denied in enforce: the open of a foreign ELF is a load of code),
// but they are the same act by the same process, so only the exec is recorded and counted (the
// status counts then equal what the audit log accounts for). The exec is noted before the
// kernel is answered: the opens it causes come only after the answer. An open is a
// follow-up when the same pid's exec of the same inode was recorded as deny or would-deny less
// than kWindow ago.
//
// Thread-safety: all methods lock. Bounded: the kCapacity most recent refused execs.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace lockd {

class ExecFollowUps {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kCapacity = 64;
  static constexpr std::chrono::milliseconds kWindow{2000};

  // A refused exec (deny or would-deny) was recorded.
  void NoteRefusedExec(pid_t pid, std::uint64_t dev, std::uint64_t ino, Clock::time_point now);
  // Whether a refused open of (pid, dev, ino) at now follows such an exec, and is not recorded.
  bool IsFollowUp(pid_t pid, std::uint64_t dev, std::uint64_t ino, Clock::time_point now) const;

 private:
  struct Entry {
    pid_t pid = 0;
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    Clock::time_point when{};
  };
  mutable std::mutex mu_;
  std::array<Entry, kCapacity> ring_{};
  std::size_t next_ = 0;
};

}  // namespace lockd
