#include "lockd/event_loop.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lockd/coverage_gate.h"
#include "lockd/log.h"
#include "lockd/os/file_probe.h"
#include "lockd/os/sd_notify.h"

namespace lockd {

namespace {
// Mount table re-read and watchdog granularity: new filesystems are marked within this time
// even if a mountinfo wakeup were missed.
constexpr int kTickMs = 1000;
}  // namespace

EventLoop::EventLoop(EventLoopParts parts) : p_(std::move(parts)), self_(::getpid()) {}

void EventLoop::SyncMounts() {
  if (p_.mounts != nullptr) p_.mounts->SyncAll();
}

void EventLoop::HandleNotification(os::FanotifyEvent& event) {
  if (!event.fd.valid()) return;
  auto facts = p_.kernel.Stat(event.fd.get());
  if (facts.ok()) p_.cache.Invalidate(facts->dev, facts->ino);
  if (p_.on_write) p_.on_write(event);
}

bool EventLoop::OpenNeedsJudgement(const os::FanotifyEvent& event,
                                   const hashdb::Result<FileFacts>& facts) const {
  if (p_.databases == nullptr) return false;
  // Unreadable metadata: the decider denies what it cannot read.
  if (!facts.ok()) return true;
  if (!facts->regular()) return false;
  std::shared_ptr<const hashdb::Database> db = p_.databases->Current();
  if (db == nullptr) return true;
  return TriageOpen(p_.kernel, event.fd.get(), event.pid, *facts, db->policy(), p_.scripts,
                    db.get()) == OpenAction::kJudge;
}

void EventLoop::HandleBatch(std::vector<os::FanotifyEvent> batch) {
  for (int round = 1; !batch.empty(); ++round) {
    const bool may_use_cache = round < kMaxRounds;
    std::vector<PermissionRequest> requests;
    bool probed_clean = false;
    for (auto& ev : batch) {
      if (ev.is_overflow()) {
        p_.stats.queue_overflows.fetch_add(1, std::memory_order_relaxed);
        p_.sink.OnDaemonEvent(
            {NowUnixNs(), DaemonEventKind::kQueueOverflow, "fanotify event queue overflowed", 0});
        continue;
      }
      if (ev.is_permission()) {
        if (!ev.fd.valid()) {
          // The kernel could not open the file for us without waiting (a lease on it) and has
          // denied the access itself: nothing to answer.
          p_.stats.unopenable_denied.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (ev.pid == self_) {
          // lockd's own access: never wait on ourselves.
          p_.stats.own_events.fetch_add(1, std::memory_order_relaxed);
          (void)p_.kernel.Respond(ev.fd.get(), true);
          continue;
        }
        PermissionRequest r;
        r.pid = ev.pid;
        r.exec = ev.is_exec_permission();
        r.facts = p_.kernel.Stat(ev.fd.get());
        if (!ev.is_exec_permission() && r.facts.ok() && p_.kernel_cache != nullptr) {
          const auto verdict = p_.kernel_cache->OnOpen(ev.fd.get(), *r.facts);
          if (verdict == KernelCache::OpenVerdict::kAllow ||
              verdict == KernelCache::OpenVerdict::kDeny) {
            // A file the kernel answers execs of, nobody writing it: its allowlisted content
            // (or, kDeny, a writer that could not be kept from changing it unseen).
            p_.stats.opens_of_kernel_cached.fetch_add(1, std::memory_order_relaxed);
            if (!p_.kernel.Respond(ev.fd.get(), verdict == KernelCache::OpenVerdict::kAllow).ok()) {
              p_.stats.response_errors.fetch_add(1, std::memory_order_relaxed);
            }
            continue;
          }
        }
        if (!ev.is_exec_permission() && r.facts.ok() &&
            p_.decider.IsOpenOfAllowedExec(ev.pid, *r.facts)) {
          // The second event of an exec just allowed, same file version (exec_open_pairing.h).
          p_.stats.opens_of_allowed_execs.fetch_add(1, std::memory_order_relaxed);
          if (!p_.kernel.Respond(ev.fd.get(), true).ok()) {
            p_.stats.response_errors.fetch_add(1, std::memory_order_relaxed);
          }
          continue;
        }
        if (!ev.is_exec_permission() && !OpenNeedsJudgement(ev, r.facts)) {
          // A plain open of something that is not code (or not code for this opener).
          p_.stats.opens_allowed_by_sniff.fetch_add(1, std::memory_order_relaxed);
          if (!p_.kernel.Respond(ev.fd.get(), true).ok()) {
            p_.stats.response_errors.fetch_add(1, std::memory_order_relaxed);
          }
          continue;
        }
        r.untrusted_filesystem = r.facts.ok() && p_.coverage.Untrusted(r.facts->dev);
        // A new image follows an exec: what script coverage read of the old one is stale.
        if (ev.is_exec_permission() && p_.scripts != nullptr) p_.scripts->OnExec(ev.pid);
        if (may_use_cache && r.facts.ok() && r.facts->regular() && !r.untrusted_filesystem &&
            p_.coverage.FilesystemMarked(r.facts->dev) &&
            p_.kernel.ProbeWriters(ev.fd.get()) == WriterState::kNone) {
          r.cache_allowed = true;
          probed_clean = true;
        }
        r.fd = std::move(ev.fd);
        requests.push_back(std::move(r));
        // Write notifications in the same event (merged masks) are handled below.
        continue;
      }
      if (ev.is_write_notification()) HandleNotification(ev);
    }
    // The writer probe said "no writers now"; a writer that closed just before the probe has
    // its FAN_CLOSE_WRITE in the queue behind these events. Read it now, before any cache
    // lookup, so the invalidation is applied first (decision_cache.h, rule 2).
    std::vector<os::FanotifyEvent> next;
    if (probed_clean) {
      auto more = p_.kernel.ReadEvents(nullptr);
      if (more.ok()) {
        for (auto& ev : *more) {
          if (!ev.is_permission() && ev.is_write_notification()) {
            HandleNotification(ev);
          } else {
            next.push_back(std::move(ev));
          }
        }
      } else {
        // Cannot prove the queue is drained: do not use the cache for this batch.
        for (auto& r : requests) r.cache_allowed = false;
      }
    }
    for (auto& r : requests) p_.decider.Submit(std::move(r));
    batch = std::move(next);
  }
}

void EventLoop::DrainFanotify() {
  // Bounded so signals and mount changes are still seen under an endless flood.
  for (int i = 0; i < 1000; ++i) {
    bool maybe_more = false;
    auto events = p_.kernel.ReadEvents(&maybe_more);
    if (!events.ok()) {
      LogError(events.error().message);
      return;
    }
    if (events->empty()) return;
    HandleBatch(std::move(*events));
    if (!maybe_more) return;
  }
}

int EventLoop::Run() {
  using Clock = std::chrono::steady_clock;
  auto next_watchdog = Clock::now();
  auto next_tick = Clock::now() + std::chrono::milliseconds(kTickMs);
  for (;;) {
    const auto now = Clock::now();
    if (p_.watchdog_interval && now >= next_watchdog) {
      (void)os::SdNotify("WATCHDOG=1");
      next_watchdog = now + *p_.watchdog_interval;
    }
    if (now >= next_tick) {
      SyncMounts();
      next_tick = now + std::chrono::milliseconds(kTickMs);
    }
    auto until = next_tick;
    if (p_.watchdog_interval && next_watchdog < until) until = next_watchdog;
    const int timeout_ms = static_cast<int>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count()));
    // fds[2] and fds[3] are -1 (ignored by poll) when mount notifications are not in use or
    // there is no mount discovery (unit tests).
    pollfd fds[4] = {{p_.kernel.PollFd(), POLLIN, 0},
                     {p_.signals.fd(), POLLIN, 0},
                     {p_.mounts != nullptr ? p_.mounts->table_fd() : -1, POLLPRI, 0},
                     {p_.mounts != nullptr ? p_.mounts->notify_fd() : -1, POLLIN, 0}};
    const int n = ::poll(fds, 4, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      LogError(std::string("poll: ") + std::strerror(errno));
      continue;
    }
    // A new mount first: every exec from it before its mark is placed is unseen.
    if ((fds[3].revents & POLLIN) && p_.mounts != nullptr) p_.mounts->OnNotifications();
    if (fds[0].revents & POLLIN) DrainFanotify();
    if (fds[2].revents & (POLLPRI | POLLERR)) SyncMounts();
    if (fds[1].revents & POLLIN) {
      for (int sig = p_.signals.Read(); sig != 0; sig = p_.signals.Read()) {
        if (sig == SIGHUP) {
          p_.reload();
        } else if (sig == SIGTERM || sig == SIGINT) {
          return sig;
        }
      }
    }
  }
}

}  // namespace lockd
