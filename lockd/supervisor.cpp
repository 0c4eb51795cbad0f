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
#include "lockd/decision_sink.h"
#include "lockd/log.h"
#include "lockd/os/fanotify.h"
#include "lockd/os/pending_ledger.h"
#include "lockd/os/signal_fd.h"

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

struct DeciderStart {
  os::FanotifyGroup* group = nullptr;
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
  options.ready_fd = ready_wr;
  options.restart = start.restart;
  ::_exit(RunDaemon(options));
}

void DenyOrphans(os::FanotifyGroup* group, pid_t dead, DeciderRestart* restart) {
  if (group == nullptr) return;
  const int fd_limit = DeciderFdLimit();
  const auto started = Clock::now();
  const auto report = group->DenyOrphanedEvents(fd_limit);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  const std::string sweep =
      "sweep of " + std::to_string(fd_limit) + " fd numbers, " + std::to_string(ms) + " ms";
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

}  // namespace

int RunSupervised(SupervisorOptions options) {
  ::signal(SIGPIPE, SIG_IGN);
  // The group first, while this is the only process: the decider inherits it.
  auto group = os::FanotifyGroup::Create();
  auto ledger = os::PendingLedger::Create();
  if (!ledger.ok()) {
    LogError("supervisor: " + ledger.error().message);
    return 1;
  }
  DeciderStart start;
  if (group.ok()) {
    group->AttachLedger(&*ledger);
    start.group = &*group;
  } else {
    start.group_error = group.error();  // reported by the decider at its "fanotify" step
  }
  auto signals = os::SignalFd::Create({SIGTERM, SIGINT, SIGHUP, SIGCHLD});
  if (!signals.ok()) {
    LogError("supervisor: signals: " + signals.error().message);
    return 1;
  }
  start.supervisor = ::getpid();
  start.signal_fd = signals->fd();
  RestartPolicy policy(options.policy);
  bool stop_requested = false;

  for (;;) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      LogError(hashdb::ErrnoError("supervisor: pipe").message);
      return 1;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      LogError(hashdb::ErrnoError("supervisor: fork").message);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      return 1;
    }
    if (pid == 0) RunDecider(options.daemon, start, pipe_fds[0], pipe_fds[1]);
    ::close(pipe_fds[1]);
    hashdb::UniqueFd ready_rd(pipe_fds[0]);
    LogInfo("supervisor " + std::to_string(start.supervisor) + ": decider " + std::to_string(pid) +
            " started" +
            (start.restart ? " (restart " + std::to_string(start.restart->number) + ")" : ""));

    bool ready = false;
    bool killed = false;
    int status = 0;
    bool stopping = false;  // a stop was forwarded; deadline applies
    Clock::time_point deadline{};
    for (bool ended = false; !ended;) {
      pollfd fds[2] = {{signals->fd(), POLLIN, 0}, {ready_rd.get(), POLLIN, 0}};
      int timeout_ms = -1;
      if (stopping) {
        timeout_ms = static_cast<int>(std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                   .count()));
      }
      const int n = ::poll(fds, ready_rd.valid() ? 2 : 1, timeout_ms);
      if (n < 0 && errno != EINTR) {
        LogError(hashdb::ErrnoError("supervisor: poll").message);
        continue;
      }
      if (stopping && Clock::now() >= deadline) {
        LogError("supervisor: decider " + std::to_string(pid) + " did not stop within " +
                 std::to_string(options.stop_timeout.count()) + " s; killing it");
        ::kill(pid, SIGKILL);
        killed = true;
        stopping = false;
      }
      if (n > 0 && ready_rd.valid() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        char byte = 0;
        ssize_t r;
        do {
          r = ::read(ready_rd.get(), &byte, 1);
        } while (r < 0 && errno == EINTR);
        if (r == 1) ready = true;
        ready_rd.Reset();  // one byte, or EOF: the decider is ready or gone
      }
      for (int sig = signals->Read(); sig != 0; sig = signals->Read()) {
        if (sig == SIGTERM || sig == SIGINT) {
          if (!stop_requested) {
            stop_requested = true;
            stopping = true;
            deadline = Clock::now() + options.stop_timeout;
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
          status = st;
          ended = true;
        }
      }
    }

    const std::string how = DescribeWaitStatus(status);
    switch (ClassifyDeciderEnd(status, ready, stop_requested)) {
      case DeciderEnd::kStartupFailed:
        // The decider logged why; end with its status (no restart loop on a bad config).
        LogError("supervisor: decider " + std::to_string(pid) + " failed at startup (" + how + ")");
        return ExitCodeFor(status);
      case DeciderEnd::kStopped:
        if (killed || !WIFEXITED(status)) {
          // Died without draining: deny what it held before the group closes (closing would
          // allow it).
          DenyOrphans(start.group, pid, nullptr);
          return 1;
        }
        LogInfo("supervisor: decider " + std::to_string(pid) + " stopped (" + how + ")");
        return WEXITSTATUS(status);
      case DeciderEnd::kCrashed:
        break;
    }

    LogError("supervisor: decider " + std::to_string(pid) + " died (" + how + ")");
    DeciderRestart restart;
    restart.previous_pid = pid;
    restart.how_ended = how;
    restart.died_unix_ns = NowUnixNs();
    DenyOrphans(start.group, pid, &restart);
    const auto delay = policy.OnCrash(Clock::now());
    if (!delay) {
      LogError("supervisor: " + std::to_string(policy.options().max_restarts + 1) +
               " decider deaths within " + std::to_string(policy.options().window.count()) +
               " s; giving up. Exiting closes the fanotify group: the kernel allows every "
               "access until lockd is started again (systemd: Restart=always)");
      return 1;
    }
    restart.number = policy.restarts();
    start.restart = restart;
    if (delay->count() > 0) {
      // Events wait in the kernel meanwhile; a stop request ends the supervisor at once.
      LogInfo("supervisor: restarting the decider in " + std::to_string(delay->count()) + " ms");
      const auto until = Clock::now() + *delay;
      while (Clock::now() < until) {
        pollfd pfd{signals->fd(), POLLIN, 0};
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        (void)::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(0, left)));
        for (int sig = signals->Read(); sig != 0; sig = signals->Read()) {
          if (sig == SIGTERM || sig == SIGINT) {
            LogInfo("supervisor: stop requested while no decider runs");
            return 0;
          }
        }
      }
    }
  }
}

}  // namespace lockd
