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

TEST_CASE("a first decider that exits before ready failed at startup: no restart") {
  CHECK(lockd::ClassifyDeciderEnd(Exited(1), false, false) == DeciderEnd::kStartupFailed);
  CHECK(lockd::ClassifyDeciderEnd(Exited(2), false, false) == DeciderEnd::kStartupFailed);
  CHECK(lockd::ExitCodeFor(Exited(1)) == 1);
}

TEST_CASE("a later decider that fails at startup is restarted: the marked group is never closed") {
  // Once a decider was ready the marks are on the group; exiting would close it and allow
  // everything (issue 12 item 6).
  CHECK(lockd::ClassifyDeciderEnd(Exited(1), false, false, true) == DeciderEnd::kCrashed);
  CHECK(lockd::ClassifyDeciderEnd(Exited(1), false, true, true) == DeciderEnd::kStopped);
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

TEST_CASE("restart policy: immediate first restart, growing pauses, never gives up") {
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
  CHECK_FALSE(p.crash_loop());
  // The sixth within 60 s: a crash loop, retried every max_delay, forever.
  CHECK(p.OnCrash(t0 + seconds(5)) == milliseconds(300));
  CHECK(p.crash_loop());
  for (int i = 6; i < 100; ++i) CHECK(p.OnCrash(t0 + seconds(5) + milliseconds(i)) == o.max_delay);
  CHECK(p.restarts() == 100);
}

TEST_CASE("restart policy forgets crashes older than the window") {
  RestartPolicy p;  // defaults: 5 per 60 s
  const auto t0 = RestartPolicy::Clock::time_point{} + seconds(1000);
  for (int i = 0; i < 5; ++i) (void)p.OnCrash(t0 + seconds(i));
  CHECK_FALSE(p.crash_loop());
  // 61 s after the first: the first has left the window, so this is the fifth in it.
  CHECK(p.OnCrash(t0 + seconds(61)) < p.options().max_delay);
  CHECK_FALSE(p.crash_loop());
  // One crash an hour is always restarted at once.
  RestartPolicy slow;
  for (int i = 0; i < 50; ++i) {
    CHECK(slow.OnCrash(t0 + seconds(3600 * i)) == milliseconds(0));
  }
  CHECK(slow.restarts() == 50);
}

TEST_CASE("while no decider runs the supervisor's status says so, and why") {
  lockd::DownStatus s;
  s.supervisor_pid = 10;
  s.last_decider_pid = 11;
  s.how_ended = "exit 1";
  s.failure = "database: allowlist.lockdb: bad \"signature\"\n";
  s.down_since_unix_ns = 1'000'000'000'000'000'000;
  s.now_unix_ns = s.down_since_unix_ns + 12'000'000'000;
  s.restarts = 7;
  s.crash_loop = true;
  s.next_restart_ms = 4000;
  s.denied_while_down = 42;
  const std::string text = lockd::RenderDownStatus(s, false);
  CHECK(text.find("DECIDER DOWN") != std::string::npos);
  CHECK(text.find("last decider: 11 (exit 1)") != std::string::npos);
  CHECK(text.find("(12 s)") != std::string::npos);
  CHECK(text.find("denied while down: 42") != std::string::npos);
  CHECK(text.find("crash loop") != std::string::npos);
  // The decider's words are escaped: one line each, whatever they hold.
  CHECK(text.find("\\x0a") != std::string::npos);
  const std::string json = lockd::RenderDownStatus(s, true);
  CHECK(json.find("\"state\":\"decider-down\"") != std::string::npos);
  CHECK(json.find("\"denied_while_down\":42") != std::string::npos);
  CHECK(json.find("\"crash_loop\":true") != std::string::npos);
  CHECK(json.find("\"failure\":\"database: allowlist.lockdb: bad \\\"signature\\\"\\n\"") !=
        std::string::npos);
}

TEST_CASE("status shows the decider restarts") {
  lockd::StatusSnapshot s;
  s.decider_restarts = 2;
  CHECK(lockd::RenderStatusText(s).find("decider restarts: 2\n") != std::string::npos);
  CHECK(lockd::RenderStatusJson(s).find("\"decider_restarts\":2") != std::string::npos);
}
