#pragma once
// The supervisor's decisions, as pure functions (unit tested): how a decider's end is read and
// whether, and after what pause, a fresh decider is started. lockd/supervisor.cpp does the
// forking and waiting.

#include <chrono>
#include <deque>
#include <optional>
#include <string>

#include <sys/types.h>

namespace lockd {

enum class DeciderEnd {
  kStartupFailed,  // exited before it was ready: the supervisor exits with the same status
  kStopped,        // ended after the supervisor asked it to stop
  kCrashed,        // anything else: killed by a signal, or exited after ready unasked
};

// wait_status is from waitpid. was_ready: the decider reported ready (marks placed, READY=1
// sent). stop_requested: the supervisor forwarded SIGTERM/SIGINT. ever_ready: some decider of
// this supervisor was ready before (the marks are on the group): a later startup failure is then
// not the end (the supervisor keeps denying and retries, it never closes a marked group), only a
// first start that fails ends lockd with the decider's status.
// A decider that exits 0 after ready without being asked (someone sent SIGTERM to the decider
// itself) counts as a crash: it has removed its marks, and only a fresh decider restores them.
// A decider killed by a signal before ready also counts as a crash (bounded by the policy), so
// that killing a starting decider cannot stop enforcement for good.
DeciderEnd ClassifyDeciderEnd(int wait_status, bool was_ready, bool stop_requested,
                              bool ever_ready = false);

// "exit 3", "signal 9 (Killed)", "signal 11 (Segmentation fault), core dumped".
std::string DescribeWaitStatus(int wait_status);

// The exit status the supervisor returns for a decider that ended (exit code, or 128+signal).
int ExitCodeFor(int wait_status);

struct RestartPolicyOptions {
  // More than max_restarts crashes within window is a crash loop: every later restart waits
  // max_delay. The supervisor never gives up (that would close the group and allow everything).
  int max_restarts = 5;
  std::chrono::seconds window{60};
  // The first restart in a window is immediate; later ones wait base_delay * 2^(k-2), capped.
  // While waiting, the supervisor denies every permission event (nothing is allowed, nothing
  // waits), so the pauses are short.
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{5000};
};

class RestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RestartPolicy(RestartPolicyOptions options = {}) : options_(options) {}

  // A decider crashed (or failed to start) at now: how long to wait before starting the next
  // one. Never refuses.
  std::chrono::milliseconds OnCrash(Clock::time_point now);
  // Whether the crashes within the window exceed max_restarts (shown in status and logs).
  bool crash_loop() const { return static_cast<int>(recent_.size()) > options_.max_restarts; }

  // Restarts granted so far (lockctl status shows it).
  int restarts() const { return restarts_; }
  const RestartPolicyOptions& options() const { return options_; }

 private:
  RestartPolicyOptions options_;
  std::deque<Clock::time_point> recent_;
  int restarts_ = 0;
};

// What the supervisor knows while no decider runs, for `lockctl status` (answered by the
// supervisor itself on the control socket then).
struct DownStatus {
  pid_t supervisor_pid = 0;
  pid_t last_decider_pid = 0;
  std::string how_ended;  // DescribeWaitStatus
  std::string failure;    // what the decider said before exiting ("database: ..."), or ""
  std::int64_t down_since_unix_ns = 0;
  std::int64_t now_unix_ns = 0;
  int restarts = 0;  // restarts granted so far
  bool crash_loop = false;
  std::int64_t next_restart_ms = 0;
  std::uint64_t denied_while_down = 0;  // permission events denied since the decider ended
};
// The status reply body (text for people, or one JSON object with "state":"decider-down").
std::string RenderDownStatus(const DownStatus& status, bool json);

}  // namespace lockd
