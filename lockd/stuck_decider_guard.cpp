#include "lockd/stuck_decider_guard.h"

#include "lockd/decision_sink.h"

namespace lockd {

std::string DescribeSupervisorFuseAbort(pid_t decider, const SupervisorFuseAbort& a) {
  const std::string who = "decider " + std::to_string(decider) + " had been dying " +
                          std::to_string(a.dying_ms) + " ms without being released";
  if (a.connection.empty()) return "supervisor: " + a.error + " (" + who + ")";
  const std::string what = "FUSE connection " + a.connection + " (" +
                           (a.mount_point.empty() ? "mount not visible" : a.mount_point) + ", " +
                           std::to_string(a.waiting) + " request(s) waiting)";
  if (!a.error.empty()) return "supervisor: cannot abort " + what + ": " + a.error + "; " + who;
  return "supervisor: aborted " + what + ": " + who +
         " (a thread held in a request to that server); every access to that filesystem fails "
         "until it is mounted again";
}

StuckDeciderGuard::StuckDeciderGuard(
    os::FuseConnections& fuse, std::function<os::ProcessLife(pid_t)> life,
    std::function<hashdb::Result<std::vector<os::FuseMount>>()> marked_fuse,
    StuckDeciderGuardOptions options)
    : fuse_(fuse),
      life_(std::move(life)),
      marked_fuse_(std::move(marked_fuse)),
      options_(options) {}

void StuckDeciderGuard::Watch(pid_t decider) {
  decider_ = decider;
  dying_ = false;
  aborted_once_ = false;
}

std::vector<SupervisorFuseAbort> StuckDeciderGuard::Check(Clock::time_point now) {
  std::vector<SupervisorFuseAbort> tried;
  if (decider_ <= 0) return tried;
  if (!dying_) {
    // kGone: reaped meanwhile (or /proc unreadable): nothing to release.
    if (life_(decider_) != os::ProcessLife::kDying) return tried;
    dying_ = true;
    dying_since_ = now;
  }
  if (now - dying_since_ < options_.grace) return tried;
  // One abort per grace: what it releases needs a moment to end.
  if (aborted_once_ && now - last_abort_ < options_.grace) return tried;
  aborted_once_ = true;
  last_abort_ = now;
  const std::int64_t dying_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - dying_since_).count();
  auto marked = marked_fuse_();
  if (!marked.ok()) {
    SupervisorFuseAbort failed;
    failed.dying_ms = dying_ms;
    failed.unix_ns = NowUnixNs();
    failed.error = "cannot list the marked FUSE filesystems: " + marked.error().message;
    tried.push_back(failed);
  } else {
    for (const auto& m : *marked) {
      const auto waiting = fuse_.Waiting(m.dev);
      if (!waiting || *waiting == 0) continue;
      SupervisorFuseAbort a;
      a.connection = os::FuseConnectionName(m.dev);
      a.mount_point = m.mount_point;
      a.waiting = *waiting;
      a.dying_ms = dying_ms;
      a.unix_ns = NowUnixNs();
      if (auto status = fuse_.Abort(m.dev); !status.ok()) a.error = status.error().message;
      tried.push_back(std::move(a));
    }
  }
  aborts_.insert(aborts_.end(), tried.begin(), tried.end());
  return tried;
}

std::vector<SupervisorFuseAbort> StuckDeciderGuard::TakeAborts() {
  std::vector<SupervisorFuseAbort> taken;
  taken.swap(aborts_);
  return taken;
}

}  // namespace lockd
