#pragma once
// AllowedExecOpens: the open that is part of an allowed exec (issue 13: fewer system calls per
// exec).
//
// The kernel raises two permission events for one execve: FAN_OPEN_EXEC_PERM, then, once that
// is allowed, FAN_OPEN_PERM for the same open of the same file by the same process. lockd
// judged the content at the first; judging the second again (pread of the head, the writer
// probe, the queue drain, the cache lookup) decides nothing new. So an allowed exec is noted
// before its answer, and the first plain open by the same pid of the same file version
// (FileFacts::SameVersion: a write in between changes mtime/ctime and the open is judged as
// usual) within kWindow is allowed at once. Each note is used once: a later open of the file by
// the same process is judged like any open.
//
// Thread-safety: all methods lock. Bounded: the kCapacity most recent allowed execs.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <mutex>

#include "lockd/file_facts.h"

namespace lockd {

class AllowedExecOpens {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kCapacity = 64;
  static constexpr std::chrono::milliseconds kWindow{1000};

  // An exec of this file version by pid is about to be allowed.
  void NoteAllowedExec(pid_t pid, const FileFacts& version, Clock::time_point now);
  // Whether a plain open of `version` by pid at now is the open of such an exec; if so the note
  // is consumed.
  bool TakeOpenOfExec(pid_t pid, const FileFacts& version, Clock::time_point now);

 private:
  struct Entry {
    pid_t pid = 0;
    FileFacts version;
    Clock::time_point when{};
  };
  std::mutex mu_;
  std::array<Entry, kCapacity> ring_{};
  std::size_t next_ = 0;
};

}  // namespace lockd
