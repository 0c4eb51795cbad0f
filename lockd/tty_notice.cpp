#include "lockd/tty_notice.h"

#include <algorithm>

#include "hashdb/digest.h"
#include "lockd/os/tty.h"
#include "lockd/text_escape.h"

namespace lockd {

namespace {
constexpr std::size_t kMaxPathBytes = 512;
constexpr std::size_t kDigestHexChars = 12;
}  // namespace

std::string_view ReasonInWords(Reason reason) {
  switch (reason) {
    case Reason::kAllowlisted:
      return "allowlisted";
    case Reason::kNotInAllowlist:
      return "not in the allowlist";
    case Reason::kReadFailed:
      return "could not be read";
    case Reason::kChangedWhileHashing:
      return "changed while being checked";
    case Reason::kNotRegularFile:
      return "not a regular file";
    case Reason::kUntrustedFilesystem:
      return "on a FUSE or network filesystem";
    case Reason::kLargerThanAllowlist:
      return "larger than any allowlisted file";
    case Reason::kWritableByUser:
      return "a file its owner or others can rewrite";
    default:  // a reason added later: lockctl log show names it
      return "not allowed";
  }
}

std::string FormatTtyNotice(const DecisionRecord& r) {
  std::string line = "lockd: blocked ";
  line.append(r.path.empty() ? std::string("a program") : EscapeLogValue(r.path, kMaxPathBytes));
  line.append(" (").append(ReasonInWords(r.reason));
  if (r.digest) {
    line.append("; sha256 ").append(hashdb::ToHex(*r.digest).substr(0, kDigestHexChars));
    line.append("...");
  }
  line.append("); see lockctl log show\r\n");
  return line;
}

std::string FormatTtySummary(std::uint64_t more) {
  return "lockd: ... and " + std::to_string(more) + " more blocked; see lockctl log show\r\n";
}

bool TtyNoticeLimiter::Admit(std::uint64_t tty, Duration now) {
  auto it = terminals_.find(tty);
  if (it == terminals_.end()) {
    if (terminals_.size() >= max_terminals_) ForgetIdle(now);
    if (terminals_.size() >= max_terminals_) {
      ++refused_;
      return false;
    }
    terminals_.emplace(tty, State{now, 0});
    return true;
  }
  State& s = it->second;
  if (now - s.last_line >= interval_) {
    s.last_line = now;
    return true;
  }
  ++s.pending;
  return false;
}

std::vector<TtyNoticeLimiter::Summary> TtyNoticeLimiter::TakeDue(Duration now) {
  std::vector<Summary> due;
  for (auto& [tty, s] : terminals_) {
    if (s.pending > 0 && now - s.last_line >= interval_) {
      due.push_back({tty, s.pending});
      s.pending = 0;
      s.last_line = now;
    }
  }
  return due;
}

TtyNoticeLimiter::Duration TtyNoticeLimiter::NextDue() const {
  Duration next = Duration::max();
  for (const auto& [tty, s] : terminals_) {
    if (s.pending > 0) next = std::min(next, s.last_line + interval_);
  }
  return next;
}

void TtyNoticeLimiter::ForgetIdle(Duration now) {
  std::erase_if(terminals_, [&](const auto& entry) {
    return entry.second.pending == 0 && now - entry.second.last_line >= interval_;
  });
}

std::shared_ptr<TtyNoticeSink> TtyNoticeSink::Start(Options options) {
  if (!options.write) {
    options.write = [](std::uint64_t tty, std::string_view text) {
      return os::WriteToTerminal(tty, text);
    };
  }
  if (!options.now) {
    options.now = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch());
    };
  }
  std::shared_ptr<TtyNoticeSink> sink(new TtyNoticeSink(std::move(options)));
  sink->thread_ = std::thread([raw = sink.get()] { raw->Run(); });
  return sink;
}

TtyNoticeSink::TtyNoticeSink(Options options)
    : options_(std::move(options)), limiter_(options_.interval, options_.max_terminals) {}

TtyNoticeSink::~TtyNoticeSink() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void TtyNoticeSink::OnDecision(const DecisionRecord& record) {
  if (record.verdict != Verdict::kDeny || record.tty_nr == 0) return;
  std::string line = FormatTtyNotice(record);
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.queue_capacity) {
      ++dropped_;
      return;
    }
    queue_.push_back({record.tty_nr, std::move(line)});
  }
  cv_.notify_one();
}

void TtyNoticeSink::Run() {
  auto write = [this](std::uint64_t tty, std::string_view text) {
    const bool ok = options_.write(tty, text).ok();
    std::lock_guard lock(mu_);
    ++(ok ? written_ : write_errors_);
  };
  std::unique_lock lock(mu_);
  while (true) {
    lock.unlock();
    for (const auto& s : limiter_.TakeDue(options_.now())) write(s.tty, FormatTtySummary(s.count));
    lock.lock();
    if (!queue_.empty()) {
      Item item = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      if (limiter_.Admit(item.tty, options_.now())) write(item.tty, item.line);
      lock.lock();
      ++processed_;
      continue;
    }
    if (stop_) return;
    const auto next = limiter_.NextDue();
    auto wake = [this] { return stop_ || !queue_.empty(); };
    if (next == TtyNoticeLimiter::Duration::max()) {
      cv_.wait(lock, wake);
    } else {
      cv_.wait_for(lock, std::max(next - options_.now(), std::chrono::nanoseconds(0)), wake);
    }
  }
}

std::uint64_t TtyNoticeSink::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}
std::uint64_t TtyNoticeSink::processed() const {
  std::lock_guard lock(mu_);
  return processed_;
}
std::uint64_t TtyNoticeSink::written() const {
  std::lock_guard lock(mu_);
  return written_;
}
std::uint64_t TtyNoticeSink::write_errors() const {
  std::lock_guard lock(mu_);
  return write_errors_;
}

}  // namespace lockd
