#pragma once
// The TTY deny notice: when lockd denies an exec (enforce) for a process that has a
// controlling terminal, the person at that terminal sees one line saying what was stopped and
// why, as Santa does on macOS:
//
//   lockd: blocked /tmp/x (not in the allowlist; sha256 ab12cd34ef56...); see lockctl log show
//
// Always on (no configuration key). Would-deny (audit, maintenance) and allowed execs print
// nothing. The audit log and journald stay the record; the notice is a courtesy that may be
// lost (queue full, a terminal that takes nothing for 250 ms, process without a terminal). A
// terminal that is only busy (the denied shell printing its own error at the same moment: the
// kernel refuses the non-blocking write while it does) gets the line: os::WriteToTerminal
// tries again.
//
// Rate limit, per terminal: at most one line per interval (1 s); denials in between are
// counted and reported once the interval has passed as one summary line
//   lockd: ... and 49 more blocked; see lockctl log show
// so a loop of denied execs writes at most one line per second to a terminal, never more.
// The number of terminals tracked and the queue are bounded too.
//
// Security: the path is attacker-chosen bytes; it is escaped (text_escape.h, printable ASCII
// only) so a file name cannot send terminal escape sequences or forge lines. The device is
// checked to be that terminal (os::WriteToTerminal).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hashdb/result.h"
#include "lockd/decision_sink.h"

namespace lockd {

// The notice for a deny, ending in "\r\n" (a terminal in raw mode gets a carriage return
// too). Path escaped and cut at 512 bytes; digest shortened to 12 hex digits.
std::string FormatTtyNotice(const DecisionRecord& record);
// The summary for denials that were counted but not shown.
std::string FormatTtySummary(std::uint64_t more);
// "not in the allowlist", "could not be read", ...: the reason in words.
std::string_view ReasonInWords(Reason reason);

// Per-terminal rate limit, pure (the caller passes the time). Not thread-safe.
class TtyNoticeLimiter {
 public:
  using Duration = std::chrono::nanoseconds;
  TtyNoticeLimiter(Duration interval, std::size_t max_terminals)
      : interval_(interval), max_terminals_(max_terminals) {}

  // Whether a notice for this terminal may be written now; if not, it is counted for the
  // terminal's next summary. A new terminal when max_terminals are tracked is refused (and
  // counted in refused()) unless an idle entry can be forgotten.
  bool Admit(std::uint64_t tty, Duration now);

  struct Summary {
    std::uint64_t tty = 0;
    std::uint64_t count = 0;
  };
  // The summaries due at `now` (count > 0 and one interval since the terminal's last line);
  // each counts as that terminal's line for the rate limit.
  std::vector<Summary> TakeDue(Duration now);
  // When the next summary falls due, or Duration::max() if none is pending.
  Duration NextDue() const;

  std::size_t tracked() const { return terminals_.size(); }
  std::uint64_t refused() const { return refused_; }

 private:
  struct State {
    Duration last_line{};
    std::uint64_t pending = 0;
  };
  void ForgetIdle(Duration now);

  Duration interval_;
  std::size_t max_terminals_;
  std::unordered_map<std::uint64_t, State> terminals_;
  std::uint64_t refused_ = 0;
};

// The DecisionSink. OnDecision formats the line (bounded work, no I/O) and puts it in a
// bounded queue (full: dropped and counted); it never blocks and never touches a device. A
// thread of its own rate-limits and writes.
class TtyNoticeSink : public DecisionSink {
 public:
  struct Options {
    std::chrono::nanoseconds interval = std::chrono::seconds(1);
    std::size_t queue_capacity = 64;
    std::size_t max_terminals = 256;
    // Writes one line to the terminal tty_nr. Default: os::WriteToTerminal.
    std::function<hashdb::Status(std::uint64_t, std::string_view)> write;
    // Monotonic time. Default: steady_clock.
    std::function<std::chrono::nanoseconds()> now;
  };

  // Starts the writer thread.
  static std::shared_ptr<TtyNoticeSink> Start(Options options);
  static std::shared_ptr<TtyNoticeSink> Start() { return Start(Options{}); }
  ~TtyNoticeSink() override;  // stops and joins the thread; pending notices are dropped

  void OnDecision(const DecisionRecord& record) override;
  void OnDaemonEvent(const DaemonEvent&) override {}

  // Notices dropped because the queue was full, taken from the queue (shown or counted for a
  // summary), lines written, and failed writes (for status and tests).
  std::uint64_t dropped() const;
  std::uint64_t processed() const;
  std::uint64_t written() const;
  std::uint64_t write_errors() const;

 private:
  explicit TtyNoticeSink(Options options);
  void Run();

  struct Item {
    std::uint64_t tty = 0;
    std::string line;
  };
  Options options_;
  TtyNoticeLimiter limiter_;  // writer thread only
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stop_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t processed_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t write_errors_ = 0;
  std::thread thread_;
};

}  // namespace lockd
