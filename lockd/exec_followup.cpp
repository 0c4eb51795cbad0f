#include "lockd/exec_followup.h"

namespace lockd {

void ExecFollowUps::NoteRefusedExec(pid_t pid, std::uint64_t dev, std::uint64_t ino,
                                    Clock::time_point now) {
  std::lock_guard lock(mu_);
  ring_[next_] = {pid, dev, ino, now};
  next_ = (next_ + 1) % kCapacity;
}

bool ExecFollowUps::IsFollowUp(pid_t pid, std::uint64_t dev, std::uint64_t ino,
                               Clock::time_point now) const {
  std::lock_guard lock(mu_);
  for (const auto& e : ring_) {
    if (e.pid == pid && pid != 0 && e.dev == dev && e.ino == ino && now >= e.when &&
        now - e.when < kWindow) {
      return true;
    }
  }
  return false;
}

}  // namespace lockd
