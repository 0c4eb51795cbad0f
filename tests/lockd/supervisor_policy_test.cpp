// lockd/supervisor_policy.h: how a decider's end is read and when a fresh one is started.
#include "lockd/supervisor_policy.h"

#include <doctest/doctest.h>
#include <signal.h>

#include "lockd/status_report.h"

using lockd::DeciderEnd;
using lockd::RestartPolicy;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
// waitpid status words, as the kernel builds them.
int Exited(int code) { return (code & 0xff) << 8; }
int Signaled(int sig) { return sig & 0x7f; }
}  // namespace

TEST_CASE("a decider that exits before ready failed at startup: no restart") {
  CHECK(lockd::ClassifyDeciderEnd(Exited(1), false, false) == DeciderEnd::kStartupFailed);
  CHECK(lockd::ClassifyDeciderEnd(Exited(2), false, false) == DeciderEnd::kStartupFailed);
  CHECK(lockd::ExitCodeFor(Exited(1)) == 1);
}

TEST_CASE("a decider killed or exiting after ready crashed; after a stop request it stopped") {
  CHECK(lockd::ClassifyDeciderEnd(Signaled(SIGKILL), true, false) == DeciderEnd::kCrashed);
  CHECK(lockd::ClassifyDeciderEnd(Signaled(SIGSEGV), true, false) == DeciderEnd::kCrashed);
  // Killed while starting: a crash too (bounded by the policy), not a startup failure.
  CHECK(lockd::ClassifyDeciderEnd(Signaled(SIGKILL), false, false) == DeciderEnd::kCrashed);
  // SIGTERM sent to the decider itself: it removed its marks; a fresh one restores them.
  CHECK(lockd::ClassifyDeciderEnd(Exited(0), true, false) == DeciderEnd::kCrashed);
  CHECK(lockd::ClassifyDeciderEnd(Exited(1), true, false) == DeciderEnd::kCrashed);
  CHECK(lockd::ClassifyDeciderEnd(Exited(0), true, true) == DeciderEnd::kStopped);
  CHECK(lockd::ClassifyDeciderEnd(Signaled(SIGKILL), true, true) == DeciderEnd::kStopped);
  CHECK(lockd::ExitCodeFor(Signaled(SIGKILL)) == 137);
}

TEST_CASE("wait statuses are described for the log and the audit record") {
  CHECK(lockd::DescribeWaitStatus(Exited(3)) == "exit 3");
  CHECK(lockd::DescribeWaitStatus(Signaled(SIGKILL)) == "signal 9 (Killed)");
  CHECK(lockd::DescribeWaitStatus(Signaled(SIGSEGV) | 0x80) ==
        "signal 11 (Segmentation fault), core dumped");
}

TEST_CASE("restart policy: immediate first restart, growing pauses, gives up past the limit") {
  lockd::RestartPolicyOptions o;
  o.max_restarts = 5;
  o.window = seconds(60);
  o.base_delay = milliseconds(100);
  o.max_delay = milliseconds(300);
  RestartPolicy p(o);
  const auto t0 = RestartPolicy::Clock::time_point{} + seconds(1000);
  CHECK(p.OnCrash(t0) == milliseconds(0));
  CHECK(p.OnCrash(t0 + seconds(1)) == milliseconds(100));
  CHECK(p.OnCrash(t0 + seconds(2)) == milliseconds(200));
  CHECK(p.OnCrash(t0 + seconds(3)) == milliseconds(300));  // capped
  CHECK(p.OnCrash(t0 + seconds(4)) == milliseconds(300));
  CHECK(p.restarts() == 5);
  CHECK_FALSE(p.OnCrash(t0 + seconds(5)).has_value());  // the sixth within 60 s
  CHECK(p.restarts() == 5);
}

TEST_CASE("restart policy forgets crashes older than the window") {
  RestartPolicy p;  // defaults: 5 per 60 s
  const auto t0 = RestartPolicy::Clock::time_point{} + seconds(1000);
  for (int i = 0; i < 5; ++i) REQUIRE(p.OnCrash(t0 + seconds(i)).has_value());
  // 61 s after the first: the first has left the window, so this is the fifth in it.
  CHECK(p.OnCrash(t0 + seconds(61)).has_value());
  // One crash an hour never runs out.
  RestartPolicy slow;
  for (int i = 0; i < 50; ++i) {
    CHECK(slow.OnCrash(t0 + seconds(3600 * i)) == milliseconds(0));
  }
  CHECK(slow.restarts() == 50);
}

TEST_CASE("status shows the decider restarts") {
  lockd::StatusSnapshot s;
  s.decider_restarts = 2;
  CHECK(lockd::RenderStatusText(s).find("decider restarts: 2\n") != std::string::npos);
  CHECK(lockd::RenderStatusJson(s).find("\"decider_restarts\":2") != std::string::npos);
}
