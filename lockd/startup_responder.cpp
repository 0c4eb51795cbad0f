#include "lockd/startup_responder.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace lockd {

namespace {
// How often overdue events are looked for when nothing else wakes the thread.
constexpr int kTickMs = 50;
}  // namespace

StartupResponder::StartupResponder(os::EventKernel& kernel, std::chrono::milliseconds hold_limit)
    : kernel_(kernel),
      hold_limit_(hold_limit),
      self_(::getpid()),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { Run(); });
}

StartupResponder::~StartupResponder() {
  // Not handed over (startup failed): deny what is held rather than leave it waiting. The
  // supervisor would deny it too once this process exits, but only after the exit.
  for (auto& e : Stop()) {
    if (e.is_permission() && e.fd.valid()) (void)kernel_.Respond(e.fd.get(), false);
  }
}

void StartupResponder::Take(std::vector<os::FanotifyEvent> events) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  for (auto& ev : events) {
    // Already denied by the kernel (it could not open the file): nothing to answer.
    if (ev.is_permission() && !ev.fd.valid()) continue;
    if (ev.is_permission() && ev.pid == self_) {
      // Our own access (config, database, audit log...): never wait on ourselves.
      (void)kernel_.Respond(ev.fd.get(), true);
      ++counts_.own_allowed;
      continue;
    }
    if (held_.size() >= kMaxHeld) {
      if (ev.is_permission()) {
        (void)kernel_.Respond(ev.fd.get(), false);
        ++counts_.denied_late;
      } else {
        ++counts_.dropped;
      }
      continue;
    }
    held_.push_back({std::move(ev), now});
  }
}

void StartupResponder::DenyOverdue() {
  const auto limit = std::chrono::steady_clock::now() - hold_limit_;
  std::lock_guard lock(mu_);
  for (auto& h : held_) {
    if (h.since > limit || !h.event.is_permission() || !h.event.fd.valid()) continue;
    (void)kernel_.Respond(h.event.fd.get(), false);
    h.event.fd.Reset();  // answered: the loop must not answer it again
    ++counts_.denied_late;
  }
  std::erase_if(held_,
                [](const Held& h) { return h.event.is_permission() && !h.event.fd.valid(); });
}

void StartupResponder::Run() {
  for (;;) {
    pollfd fds[2] = {{kernel_.PollFd(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, kTickMs);
    if (n < 0 && errno != EINTR) {
      std::lock_guard lock(mu_);
      ++counts_.read_errors;
    }
    if (n > 0 && (fds[1].revents & POLLIN)) return;
    // A kernel without a pollable fd (a fake) is read on every tick.
    if (kernel_.PollFd() < 0 || (n > 0 && (fds[0].revents & POLLIN))) {
      for (int i = 0; i < 64; ++i) {
        bool maybe_more = false;
        auto events = kernel_.ReadEvents(&maybe_more);
        if (!events.ok()) {
          std::lock_guard lock(mu_);
          ++counts_.read_errors;
          break;
        }
        if (events->empty()) break;
        Take(std::move(*events));
        if (!maybe_more) break;
      }
    }
    DenyOverdue();
  }
}

std::vector<os::FanotifyEvent> StartupResponder::Stop() {
  if (!stopped_) {
    stopped_ = true;
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
  }
  std::lock_guard lock(mu_);
  std::vector<os::FanotifyEvent> out;
  out.reserve(held_.size());
  for (auto& h : held_) out.push_back(std::move(h.event));
  counts_.held += out.size();
  held_.clear();
  return out;
}

StartupResponder::Counts StartupResponder::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace lockd
