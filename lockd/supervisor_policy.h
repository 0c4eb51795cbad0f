#pragma once
// The supervisor's decisions, as pure functions (unit tested): how a decider's end is read and
// whether, and after what pause, a fresh decider is started. lockd/supervisor.cpp does the
// forking and waiting.

#include <chrono>
#include <deque>
#include <optional>
#include <string>

namespace lockd {

enum class DeciderEnd {
  kStartupFailed,  // exited before it was ready: the supervisor exits with the same status
  kStopped,        // ended after the supervisor asked it to stop
  kCrashed,        // anything else: killed by a signal, or exited after ready unasked
};

// wait_status is from waitpid. was_ready: the decider reported ready (marks placed, READY=1
// sent). stop_requested: the supervisor forwarded SIGTERM/SIGINT.
// A decider that exits 0 after ready without being asked (someone sent SIGTERM to the decider
// itself) counts as a crash: it has removed its marks, and only a fresh decider restores them.
// A decider killed by a signal before ready also counts as a crash (bounded by the policy), so
// that killing a starting decider cannot stop enforcement for good.
DeciderEnd ClassifyDeciderEnd(int wait_status, bool was_ready, bool stop_requested);

// "exit 3", "signal 9 (Killed)", "signal 11 (Segmentation fault), core dumped".
std::string DescribeWaitStatus(int wait_status);

// The exit status the supervisor returns for a decider that ended (exit code, or 128+signal).
int ExitCodeFor(int wait_status);

struct RestartPolicyOptions {
  // At most max_restarts crashes within window; one more and the supervisor gives up.
  int max_restarts = 5;
  std::chrono::seconds window{60};
  // The first restart in a window is immediate; later ones wait base_delay * 2^(k-2), capped.
  // While waiting, the kernel holds every exec on the marked filesystems (nothing is allowed),
  // so the pauses are short.
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{2000};
};

class RestartPolicy {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RestartPolicy(RestartPolicyOptions options = {}) : options_(options) {}

  // A decider crashed at now. nullopt: give up (too many crashes in the window); otherwise
  // how long to wait before starting the next one.
  std::optional<std::chrono::milliseconds> OnCrash(Clock::time_point now);

  // Restarts granted so far (lockctl status shows it).
  int restarts() const { return restarts_; }
  const RestartPolicyOptions& options() const { return options_; }

 private:
  RestartPolicyOptions options_;
  std::deque<Clock::time_point> recent_;
  int restarts_ = 0;
};

}  // namespace lockd
