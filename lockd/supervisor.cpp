#include "lockd/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "hashdb/unique_fd.h"
#include "lockd/control/socket.h"
#include "lockd/decision_sink.h"
#include "lockd/log.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/pending_ledger.h"
#include "lockd/os/signal_fd.h"
#include "lockd/stuck_decider_guard.h"

namespace lockd {

namespace {

using Clock = std::chrono::steady_clock;

// The highest fd number + 1 a decider can hold: its RLIMIT_NOFILE, capped to the ledger.
int DeciderFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
      rl.rlim_cur > static_cast<rlim_t>(os::PendingLedger::kCapacity)) {
    return os::PendingLedger::kCapacity;
  }
  return static_cast<int>(rl.rlim_cur);
}

// How long events may wait while no decider runs before the supervisor starts denying them:
// an immediate restart decides what queued meanwhile (allowlisted programs run), a longer
// outage never makes anything wait more than about this (no exec or open waits on lockd for
// more than a second or two).
constexpr std::chrono::milliseconds kDenyAfter{1000};

// How often the supervisor looks whether its decider is stuck dying (stuck_decider_guard.h).
constexpr std::chrono::milliseconds kStuckCheck{250};

std::int64_t MsUntil(Clock::time_point t) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count());
}

struct DeciderStart {
  os::FanotifyGroup* group = nullptr;
  os::FanotifyGroup* untrusted_group = nullptr;
  std::optional<hashdb::Error> group_error;
  std::optional<DeciderRestart> restart;
  pid_t supervisor = 0;
  int signal_fd = -1;  // the supervisor's, closed in the child
};

// In the forked child: becomes the decider. Never returns.
[[noreturn]] void RunDecider(const DaemonOptions& base, const DeciderStart& start, int ready_rd,
                             int ready_wr) {
  ::close(start.signal_fd);
  ::close(ready_rd);
  // Never an unsupervised decider: if the supervisor dies, stop cleanly.
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != start.supervisor) ::_exit(1);
  // SIGTERM, SIGINT and SIGHUP stay blocked: RunDaemon reads them from its own signalfd (one
  // forwarded before that is pending, not lost). SIGCHLD is the supervisor's.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
  // systemd's watchdog names the main pid (the supervisor); the decider sends the pings
  // (NotifyAccess=all), so it must consider the watchdog its own.
  if (const char* w = ::getenv("WATCHDOG_PID");
      w != nullptr && std::atol(w) == static_cast<long>(start.supervisor)) {
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  }
  // Every fd the decider can hold fits in the pending ledger (and the supervisor's sweep).
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
      (rl.rlim_cur == RLIM_INFINITY ||
       rl.rlim_cur > static_cast<rlim_t>(os::PendingLedger::kCapacity))) {
    rl.rlim_cur = os::PendingLedger::kCapacity;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(1);
  }
  DaemonOptions options = base;
  options.group = start.group;
  options.group_error = start.group_error;
  options.untrusted_group = start.untrusted_group;
  options.ready_fd = ready_wr;
  options.restart = start.restart;
  ::_exit(RunDaemon(options));
}

// What a decider said on its ready pipe (daemon.h, DaemonOptions::ready_fd).
struct ReadyMessage {
  bool ready = false;
  std::string control_socket;  // with "R"
  std::string failure;         // with "F"
};

ReadyMessage ParseReadyMessage(const std::string& text) {
  ReadyMessage m;
  if (text.empty()) return m;
  std::string rest = text.substr(1);
  if (!rest.empty() && rest.back() == '\n') rest.pop_back();
  if (text[0] == 'R') {
    m.ready = true;
    m.control_socket = rest;
  } else if (text[0] == 'F') {
    m.failure = rest;
  }
  return m;
}

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options)
      : options_(std::move(options)), policy_(options_.policy) {}

  int Run();

 private:
  // Creates the group and the ledger (before any fork: the deciders inherit them) and the
  // signalfd. False when the supervisor cannot work at all.
  bool Setup();
  // Forks a decider and waits for its end, forwarding signals. Returns its wait status.
  struct Ended {
    pid_t pid = 0;
    int status = 0;
    bool ready = false;
    bool killed = false;
    std::string failure;
  };
  std::optional<Ended> RunOneDecider();
  // After a decider died: denies what it left pending (ledger, and the sweep when it died
  // inside a read).
  void DenyOrphans(pid_t dead, DeciderRestart* restart);
  // While no decider runs: denies every permission event, answers `status` on the control
  // socket, until `until` or a stop request (then false).
  bool WaitWhileDown(Clock::time_point until, const Ended& last);
  void DenyQueued();
  void ServeStatus(os::ControlServer& server, const Ended& last, Clock::time_point next);
  // While the decider `pid` is not reaped: releases it when it is stuck dying
  // (stuck_decider_guard.h) and logs what that did.
  void ReleaseStuckDecider(pid_t pid);

  SupervisorOptions options_;
  RestartPolicy policy_;
  std::optional<os::FanotifyGroup> group_;
  std::optional<os::PendingLedger> ledger_;
  // FUSE and network filesystems' group (daemon.h) and its ledger. Never read here: reading it
  // makes the kernel open a file on such a filesystem, which its server may never answer, and
  // this single thread must never wait. While no decider runs its events wait in the kernel.
  std::optional<os::FanotifyGroup> untrusted_group_;
  std::optional<os::PendingLedger> untrusted_ledger_;
  // Aborts the FUSE connections marked in the untrusted group when a decider stays stuck dying.
  os::LinuxFuseConnections fuse_connections_;
  std::optional<StuckDeciderGuard> stuck_;
  std::optional<os::SignalFd> signals_;
  DeciderStart start_;
  bool stop_requested_ = false;
  bool ever_ready_ = false;
  std::string control_socket_;  // from the last decider that was ready
  std::uint64_t denied_while_down_ = 0;
  std::int64_t down_since_ns_ = 0;
  Clock::time_point down_since_{};
};

bool Supervisor::Setup() {
  ::signal(SIGPIPE, SIG_IGN);
  // The group first, while this is the only process: the decider inherits it. Local
  // filesystems only: its event fds may be O_NOATIME.
  auto group = os::FanotifyGroup::Create(/*no_atime=*/true);
  auto ledger = os::PendingLedger::Create();
  if (!ledger.ok()) {
    LogError("supervisor: " + ledger.error().message);
    return false;
  }
  ledger_.emplace(std::move(*ledger));
  if (group.ok()) {
    group_.emplace(std::move(*group));
    group_->AttachLedger(&*ledger_);
    start_.group = &*group_;
    auto untrusted = os::FanotifyGroup::Create();
    auto untrusted_ledger = os::PendingLedger::Create();
    if (untrusted.ok() && untrusted_ledger.ok()) {
      untrusted_ledger_.emplace(std::move(*untrusted_ledger));
      untrusted_group_.emplace(std::move(*untrusted));
      untrusted_group_->AttachLedger(&*untrusted_ledger_);
      start_.untrusted_group = &*untrusted_group_;
      stuck_.emplace(
          fuse_connections_, [](pid_t pid) { return os::ReadProcessLife(pid); },
          [this] { return os::MarkedFuseMounts(untrusted_group_->fd()); });
    } else {
      LogError("supervisor: no group of its own for FUSE and network filesystems (" +
               (untrusted.ok() ? untrusted_ledger.error() : untrusted.error()).message +
               "): they share the main group");
    }
  } else {
    start_.group_error = group.error();  // reported by the decider at its "fanotify" step
  }
  auto signals = os::SignalFd::Create({SIGTERM, SIGINT, SIGHUP, SIGCHLD});
  if (!signals.ok()) {
    LogError("supervisor: signals: " + signals.error().message);
    return false;
  }
  signals_.emplace(std::move(*signals));
  start_.supervisor = ::getpid();
  start_.signal_fd = signals_->fd();
  return true;
}

std::optional<Supervisor::Ended> Supervisor::RunOneDecider() {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    LogError(hashdb::ErrnoError("supervisor: pipe").message);
    return std::nullopt;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    LogError(hashdb::ErrnoError("supervisor: fork").message);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return std::nullopt;
  }
  if (pid == 0) RunDecider(options_.daemon, start_, pipe_fds[0], pipe_fds[1]);
  ::close(pipe_fds[1]);
  hashdb::UniqueFd ready_rd(pipe_fds[0]);
  LogInfo("supervisor " + std::to_string(start_.supervisor) + ": decider " + std::to_string(pid) +
          " started" +
          (start_.restart ? " (restart " + std::to_string(start_.restart->number) + ")" : ""));

  if (stuck_) stuck_->Watch(pid);
  Ended ended;
  ended.pid = pid;
  std::string message;
  bool stopping = false;  // a stop was forwarded; deadline applies
  Clock::time_point deadline{};
  for (bool done = false; !done;) {
    pollfd fds[2] = {{signals_->fd(), POLLIN, 0}, {ready_rd.get(), POLLIN, 0}};
    // With the untrusted group, wake every kStuckCheck to see whether the decider is stuck dying.
    int timeout_ms = stopping ? static_cast<int>(MsUntil(deadline)) : -1;
    if (stuck_ && (timeout_ms < 0 || timeout_ms > kStuckCheck.count())) {
      timeout_ms = static_cast<int>(kStuckCheck.count());
    }
    const int n = ::poll(fds, ready_rd.valid() ? 2 : 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
      LogError(hashdb::ErrnoError("supervisor: poll").message);
      continue;
    }
    if (stopping && Clock::now() >= deadline) {
      LogError("supervisor: decider " + std::to_string(pid) + " did not stop within " +
               std::to_string(options_.stop_timeout.count()) + " s; killing it");
      ::kill(pid, SIGKILL);
      ended.killed = true;
      stopping = false;
    }
    if (n > 0 && ready_rd.valid() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      // The message ends with the decider closing its end (or exiting).
      char buf[512];
      ssize_t r;
      do {
        r = ::read(ready_rd.get(), buf, sizeof(buf));
      } while (r < 0 && errno == EINTR);
      if (r > 0 && message.size() < 4096) message.append(buf, static_cast<std::size_t>(r));
      if (r <= 0) {
        const ReadyMessage m = ParseReadyMessage(message);
        ended.ready = m.ready;
        ended.failure = m.failure;
        if (m.ready) {
          ever_ready_ = true;
          control_socket_ = m.control_socket;
        }
        ready_rd.Reset();
      }
    }
    for (int sig = signals_->Read(); sig != 0; sig = signals_->Read()) {
      if (sig == SIGTERM || sig == SIGINT) {
        if (!stop_requested_) {
          stop_requested_ = true;
          stopping = true;
          deadline = Clock::now() + options_.stop_timeout;
          LogInfo(std::string("supervisor: stopping decider on ") +
                  (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
        }
        ::kill(pid, sig);
      } else if (sig == SIGHUP) {
        ::kill(pid, SIGHUP);
      }
    }
    for (;;) {
      int st = 0;
      const pid_t w = ::waitpid(-1, &st, WNOHANG);
      if (w <= 0) break;
      if (w == pid) {
        ended.status = st;
        done = true;
      }
    }
    if (!done) ReleaseStuckDecider(pid);
  }
  if (ready_rd.valid()) {
    // The decider exited before the pipe said anything more: read what is left.
    char buf[512];
    ssize_t r;
    while ((r = ::read(ready_rd.get(), buf, sizeof(buf))) > 0 && message.size() < 4096) {
      message.append(buf, static_cast<std::size_t>(r));
    }
    const ReadyMessage m = ParseReadyMessage(message);
    ended.ready = ended.ready || m.ready;
    if (ended.failure.empty()) ended.failure = m.failure;
  }
  return ended;
}

void Supervisor::DenyOrphans(pid_t dead, DeciderRestart* restart) {
  if (start_.group == nullptr) return;
  const int fd_limit = DeciderFdLimit();
  const auto started = Clock::now();
  auto report = start_.group->DenyOrphanedEvents(fd_limit);
  if (start_.untrusted_group != nullptr) {
    // Only writes answers, never reads: safe whatever a FUSE server does.
    const auto untrusted = start_.untrusted_group->DenyOrphanedEvents(fd_limit);
    report.denied += untrusted.denied;
    report.denied_outside_ledger += untrusted.denied_outside_ledger;
    report.swept = report.swept || untrusted.swept;
    report.pids.insert(report.pids.end(), untrusted.pids.begin(), untrusted.pids.end());
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  const std::string sweep =
      report.swept
          ? "sweep of " + std::to_string(fd_limit) + " fd numbers, " + std::to_string(ms) + " ms"
          : "no sweep: it died outside a read, the ledger is exact; " + std::to_string(ms) + " ms";
  if (restart != nullptr) {
    restart->pending_denied = report.denied;
    restart->denied_outside_ledger = report.denied_outside_ledger;
  }
  if (report.denied == 0) {
    LogInfo("supervisor: decider " + std::to_string(dead) + " left no unanswered event (" + sweep +
            ")");
    return;
  }
  std::string pids;  // the first few, for the operator
  for (std::size_t i = 0; i < report.pids.size() && i < 16; ++i) {
    pids += (pids.empty() ? "" : ",") + std::to_string(report.pids[i]);
  }
  if (report.pids.size() > 16) pids += ",...";
  LogWarning("supervisor: denied " + std::to_string(report.denied) + " event(s) decider " +
             std::to_string(dead) + " had read and not answered (" +
             std::to_string(report.denied_outside_ledger) + " found by the " + sweep + ")" +
             (pids.empty() ? "" : "; waiting pids " + pids));
}

void Supervisor::ReleaseStuckDecider(pid_t pid) {
  if (!stuck_) return;
  for (const auto& a : stuck_->Check(Clock::now())) {
    LogWarning(DescribeSupervisorFuseAbort(pid, a));
  }
}

void Supervisor::DenyQueued() {
  if (start_.group == nullptr) return;
  // Bounded per wakeup so signals and status requests are still seen under a flood.
  for (int i = 0; i < 64; ++i) {
    bool maybe_more = false;
    auto events = start_.group->ReadEvents(&maybe_more);
    if (!events.ok() || events->empty()) return;
    for (auto& ev : *events) {
      // Without a decider nothing can be judged: deny (never allow unjudged), never wait.
      if (ev.is_permission() && ev.fd.valid()) {
        (void)start_.group->Respond(ev.fd.get(), false);
        ++denied_while_down_;
      }
    }
    if (!maybe_more) return;
  }
}

void Supervisor::ServeStatus(os::ControlServer& server, const Ended& last, Clock::time_point next) {
  for (;;) {
    auto peer = server.Accept();
    if (!peer.ok()) return;  // none pending
    if (peer->uid != 0) {
      os::ControlServer::Reply(peer->fd.get(), "error\npermission denied\n");
      continue;
    }
    auto request = os::ControlServer::ReadRequest(peer->fd.get());
    if (!request.ok()) continue;
    const std::string command = request->substr(0, request->find('\n'));
    if (command != "status" && command != "status --json") {
      os::ControlServer::Reply(peer->fd.get(),
                               "error\nno decider is running: only status is answered now\n");
      continue;
    }
    DownStatus s;
    s.supervisor_pid = start_.supervisor;
    s.last_decider_pid = last.pid;
    s.how_ended = DescribeWaitStatus(last.status);
    s.failure = last.failure;
    s.down_since_unix_ns = down_since_ns_;
    s.now_unix_ns = NowUnixNs();
    s.restarts = policy_.restarts();
    s.crash_loop = policy_.crash_loop();
    s.next_restart_ms = MsUntil(next);
    s.denied_while_down = denied_while_down_;
    os::ControlServer::Reply(peer->fd.get(), "ok\n" + RenderDownStatus(s, command != "status"));
  }
}

bool Supervisor::WaitWhileDown(Clock::time_point until, const Ended& last) {
  // The control socket of the last ready decider, answered here while none runs (closed before
  // the next fork: that decider binds it again).
  std::optional<os::ControlServer> server;
  if (!control_socket_.empty()) {
    auto listening = os::ControlServer::Listen(control_socket_);
    if (listening.ok()) server.emplace(std::move(*listening));
  }
  // Events that queued since the death wait for the next decider, but never longer than
  // kDenyAfter: from then on, until a decider runs, every permission event is denied at once.
  const auto deny_from = down_since_ + kDenyAfter;
  for (;;) {
    const bool denying = Clock::now() >= deny_from;
    if (denying) DenyQueued();
    const std::int64_t left = MsUntil(until);
    if (left <= 0) return true;
    const std::int64_t wake =
        denying ? left : std::min(left, std::max<std::int64_t>(1, MsUntil(deny_from)));
    pollfd fds[3] = {{signals_->fd(), POLLIN, 0},
                     {denying && start_.group != nullptr ? start_.group->fd() : -1, POLLIN, 0},
                     {server ? server->fd() : -1, POLLIN, 0}};
    (void)::poll(fds, 3, static_cast<int>(wake));
    for (int sig = signals_->Read(); sig != 0; sig = signals_->Read()) {
      if (sig == SIGTERM || sig == SIGINT) {
        LogInfo("supervisor: stop requested while no decider runs");
        return false;
      }
    }
    if (server && (fds[2].revents & POLLIN)) ServeStatus(*server, last, until);
  }
}

int Supervisor::Run() {
  if (!Setup()) return 1;
  for (;;) {
    auto ended = RunOneDecider();
    if (!ended) {
      if (!ever_ready_) return 1;
      // fork or pipe failed after the marks exist: keep the group, deny, and try again.
      ended = Ended{};
    }
    const std::string how = DescribeWaitStatus(ended->status);
    switch (ClassifyDeciderEnd(ended->status, ended->ready, stop_requested_, ever_ready_)) {
      case DeciderEnd::kStartupFailed:
        // A first start that fails: the decider logged why; end with its status (systemd shows
        // it; no marks stay behind, as closing the group removes them).
        LogError("supervisor: decider " + std::to_string(ended->pid) + " failed at startup (" +
                 how + ")");
        return ExitCodeFor(ended->status);
      case DeciderEnd::kStopped:
        if (ended->killed || !WIFEXITED(ended->status)) {
          // Died without draining: deny what it held before the group closes (closing would
          // allow it).
          DenyOrphans(ended->pid, nullptr);
          return 1;
        }
        LogInfo("supervisor: decider " + std::to_string(ended->pid) + " stopped (" + how + ")");
        return WEXITSTATUS(ended->status);
      case DeciderEnd::kCrashed:
        break;
    }

    down_since_ns_ = NowUnixNs();
    down_since_ = Clock::now();
    if (ended->ready) {
      LogError("supervisor: decider " + std::to_string(ended->pid) + " died (" + how + ")");
    } else {
      LogError("supervisor: decider " + std::to_string(ended->pid) + " failed to start (" + how +
               (ended->failure.empty() ? "" : ": " + ended->failure) +
               "); every access stays denied until one starts");
    }
    DeciderRestart restart;
    if (start_.restart) {
      // Carry the counts of deciders that never became ready.
      restart.failed_starts = start_.restart->failed_starts;
      restart.denied_while_down = start_.restart->denied_while_down;
    }
    restart.previous_pid = ended->pid;
    restart.how_ended = how;
    restart.died_unix_ns = down_since_ns_;
    if (!ended->ready) ++restart.failed_starts;
    restart.last_failure = ended->failure;
    if (stuck_) restart.fuse_aborts = stuck_->TakeAborts();
    DenyOrphans(ended->pid, &restart);
    const auto delay = policy_.OnCrash(Clock::now());
    restart.number = policy_.restarts();
    if (policy_.crash_loop()) {
      LogError("supervisor: " + std::to_string(policy_.options().max_restarts + 1) +
               " or more decider ends within " + std::to_string(policy_.options().window.count()) +
               " s: crash loop; retrying every " + std::to_string(delay.count()) +
               " ms and denying every access meanwhile (the group stays open: nothing is "
               "allowed unjudged)");
    } else if (delay.count() > 0) {
      LogInfo("supervisor: restarting the decider in " + std::to_string(delay.count()) +
              " ms, denying every access meanwhile");
    }
    const std::uint64_t denied_before = denied_while_down_;
    if (delay.count() > 0 && !WaitWhileDown(Clock::now() + delay, *ended)) return 0;
    restart.denied_while_down += denied_while_down_ - denied_before;
    start_.restart = restart;
  }
}

}  // namespace

int RunSupervised(SupervisorOptions options) {
  Supervisor supervisor(std::move(options));
  return supervisor.Run();
}

}  // namespace lockd
