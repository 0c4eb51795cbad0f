#pragma once
// Counters and the last denials, for `lockctl status`. Thread-safe; counters are relaxed
// atomics (they are reports, not synchronisation).

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hashdb/digest.h"
#include "lockd/decision_sink.h"

namespace lockd {

struct DenialSummary {
  std::int64_t time_unix_ns = 0;
  Verdict verdict = Verdict::kDeny;
  Reason reason = Reason::kNotInAllowlist;
  pid_t pid = 0;
  std::string exe;
  std::string path;
  std::optional<hashdb::Digest> digest;
};

class Stats {
 public:
  static constexpr std::size_t kRecentDenials = 16;

  std::atomic<std::uint64_t> allowed{0};
  std::atomic<std::uint64_t> denied{0};
  std::atomic<std::uint64_t> would_deny{0};
  std::atomic<std::uint64_t> own_events{0};  // lockd's own accesses, allowed at once
  // Plain opens (FAN_OPEN_PERM) answered from the head sniff: not code, nothing hashed.
  std::atomic<std::uint64_t> opens_allowed_by_sniff{0};
  // Plain opens that were the second event of an exec just allowed (exec_open_pairing.h).
  std::atomic<std::uint64_t> opens_of_allowed_execs{0};
  // Plain opens of files whose execs the kernel answers (kernel_cache.h), answered at once.
  std::atomic<std::uint64_t> opens_of_kernel_cached{0};
  std::atomic<std::uint64_t> hashed_bytes{0};
  std::atomic<std::uint64_t> hashes{0};
  // Of those, hashed on the event loop from the page cache (ExecDeciderOptions::
  // inline_hash_bytes) instead of a worker.
  std::atomic<std::uint64_t> hashed_inline{0};
  std::atomic<std::uint64_t> joined_in_flight{0};  // execs that waited for another's hash
  // Refused opens neither recorded nor counted in denied/would_deny because they follow the
  // same process's refused exec of the same file (exec_followup.h): one exec, one decision.
  std::atomic<std::uint64_t> follow_ups_not_recorded{0};
  std::atomic<std::uint64_t> response_errors{0};
  std::atomic<std::uint64_t> queue_overflows{0};
  // Permission events the kernel denied itself because it could not open the file for lockd
  // without waiting (a lease on it; FanotifyEvent::open_error).
  std::atomic<std::uint64_t> unopenable_denied{0};
  std::atomic<std::int64_t> pending{0};  // permission events read but not yet answered

  void Count(Verdict verdict);
  void RecordDenial(const DecisionRecord& record);
  std::vector<DenialSummary> RecentDenials() const;  // oldest first

 private:
  mutable std::mutex mu_;
  std::deque<DenialSummary> recent_;
};

}  // namespace lockd
