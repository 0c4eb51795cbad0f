#include "lockd/untrusted_reader.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace lockd {

namespace {

std::int64_t SteadyNs(UntrustedReader::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

UntrustedReader::UntrustedReader(os::EventKernel& kernel, ExecDecider& decider,
                                 os::FuseConnections& fuse,
                                 std::function<std::vector<FuseMount>()> fuse_mounts,
                                 DecisionSink& sink, Stats& stats, UntrustedReaderOptions options)
    : kernel_(kernel),
      decider_(decider),
      fuse_(fuse),
      fuse_mounts_(std::move(fuse_mounts)),
      sink_(sink),
      stats_(stats),
      options_(options),
      self_(::getpid()) {}

UntrustedReader::~UntrustedReader() { Stop(); }

hashdb::Status UntrustedReader::Start() {
  const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return hashdb::ErrnoError("eventfd");
  stop_reader_.Reset(efd);
  guard_ = std::thread([this] { GuardLoop(); });
  reader_ = std::thread([this] { ReadLoop(); });
  return {};
}

void UntrustedReader::Stop() {
  if (reader_.joinable()) {
    const std::uint64_t one = 1;
    (void)!::write(stop_reader_.get(), &one, sizeof(one));
    reader_.join();
  }
  // Judgements still running may be held by a FUSE read: the guard stays until they end.
  decider_.Shutdown();
  if (guard_.joinable()) {
    stop_guard_.store(true);
    guard_.join();
  }
}

bool UntrustedReader::ReadOnce() {
  bool maybe_more = false;
  // Held from the read to the last Submit: the read opens each file (FUSE_OPEN), the fstat
  // may ask the server too (FUSE_GETATTR), and so may an answer given on this thread.
  reading_since_ns_.store(SteadyNs(Clock::now()));
  struct Idle {
    std::atomic<std::int64_t>& since;
    ~Idle() { since.store(0); }
  } idle{reading_since_ns_};
  auto events = kernel_.ReadEvents(&maybe_more);
  if (!events.ok()) return false;
  for (auto& ev : *events) {
    if (ev.is_overflow()) {
      stats_.queue_overflows.fetch_add(1, std::memory_order_relaxed);
      sink_.OnDaemonEvent({NowUnixNs(), DaemonEventKind::kQueueOverflow,
                           "fanotify event queue of FUSE and network filesystems overflowed", 0});
      continue;
    }
    if (!ev.is_permission()) continue;  // the untrusted mask asks for permission events only
    if (!ev.fd.valid()) {
      // The kernel could not open the file for lockd (an aborted FUSE connection) and has
      // denied the access itself.
      stats_.unopenable_denied.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (ev.pid == self_) {
      stats_.own_events.fetch_add(1, std::memory_order_relaxed);
      (void)kernel_.Respond(ev.fd.get(), true);
      continue;
    }
    PermissionRequest r;
    r.pid = ev.pid;
    r.exec = ev.is_exec_permission();
    r.facts = kernel_.Stat(ev.fd.get());
    r.untrusted_filesystem = true;
    r.cache_allowed = false;
    r.fd = std::move(ev.fd);
    decider_.Submit(std::move(r));
  }
  return maybe_more;
}

void UntrustedReader::ReadLoop() {
  for (;;) {
    pollfd fds[2] = {{kernel_.PollFd(), POLLIN, 0}, {stop_reader_.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) {
      // Stopping: the marks are gone; answer what is queued (bounded, as the main loop's drain).
      for (int i = 0; i < 1000 && ReadOnce(); ++i) {
      }
      (void)ReadOnce();
      return;
    }
    if (fds[0].revents & POLLIN) {
      for (int i = 0; i < 1000 && ReadOnce(); ++i) {
      }
    }
  }
}

std::size_t UntrustedReader::GuardOnce(Clock::time_point now) {
  std::optional<Clock::time_point> oldest;
  std::string what;
  if (const std::int64_t since = reading_since_ns_.load(); since != 0) {
    oldest = Clock::time_point(std::chrono::nanoseconds(since));
    what = "the reader (the kernel's open of an event's file for lockd, or its fstat)";
  }
  if (auto judging = decider_.OldestJudgementSince(); judging && (!oldest || *judging < *oldest)) {
    oldest = judging;
    what = "a worker's read of a file to hash it";
  }
  if (!oldest || now - *oldest < options_.stall_bound) return 0;
  // One abort per bound: what it releases needs a moment to end.
  if (last_abort_ && now - *last_abort_ < options_.stall_bound) return 0;
  const auto held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - *oldest).count();
  std::size_t aborted = 0;
  for (const auto& m : fuse_mounts_()) {
    const auto waiting = fuse_.Waiting(m.dev);
    if (!waiting || *waiting == 0) continue;
    const std::string connection = os::FuseConnectionName(m.dev);
    auto status = fuse_.Abort(m.dev);
    if (!status.ok()) {
      sink_.OnDaemonEvent({NowUnixNs(), DaemonEventKind::kError,
                           "cannot abort FUSE connection " + connection + " (" + m.mount_point +
                               ") that holds lockd: " + status.error().message,
                           0});
      continue;
    }
    ++aborted;
    sink_.OnDaemonEvent({NowUnixNs(),
                         DaemonEventKind::kFuseAbort,
                         "FUSE connection " + connection + " (" + m.mount_point + ", " +
                             std::to_string(*waiting) + " request(s) waiting) aborted: " + what +
                             " was held " + std::to_string(held_ms) +
                             " ms; every access to that filesystem fails until it is mounted "
                             "again",
                         0,
                         {{"mount_point", m.mount_point},
                          {"connection", connection},
                          {"waiting", std::to_string(*waiting)},
                          {"held_ms", std::to_string(held_ms)},
                          {"held", what}}});
  }
  last_abort_ = now;
  return aborted;
}

void UntrustedReader::GuardLoop() {
  while (!stop_guard_.load()) {
    std::this_thread::sleep_for(options_.guard_period);
    (void)GuardOnce(Clock::now());
  }
}

}  // namespace lockd
