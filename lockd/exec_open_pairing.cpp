#include "lockd/exec_open_pairing.h"

namespace lockd {

void AllowedExecOpens::NoteAllowedExec(pid_t pid, const FileFacts& version, Clock::time_point now) {
  std::lock_guard lock(mu_);
  ring_[next_] = {pid, version, now};
  next_ = (next_ + 1) % kCapacity;
}

bool AllowedExecOpens::TakeOpenOfExec(pid_t pid, const FileFacts& version, Clock::time_point now) {
  if (pid == 0) return false;
  std::lock_guard lock(mu_);
  for (auto& e : ring_) {
    if (e.pid == pid && e.version.SameVersion(version) && now >= e.when && now - e.when < kWindow) {
      e.pid = 0;  // once
      return true;
    }
  }
  return false;
}

}  // namespace lockd
