#pragma once
// The pending ledger: which fanotify permission events the decider has read and not yet
// answered, in memory shared between the supervisor and the decider (MAP_SHARED anonymous
// mapping made before fork, so it survives the decider being killed).
//
// Why it exists: a permission event that the reader took from the queue stays pending in the
// kernel until someone writes a response naming the event's fd NUMBER (the kernel matches a
// response against the group's list of read events by that number, not by who writes it or
// whether the number is still open anywhere). When the decider dies with such events, its fds
// are closed but the events remain, and the processes waiting on them hang for as long as the
// group is open. The supervisor (which keeps the group open precisely so that nothing fails
// open) reads this ledger after the death and denies every event in it.
//
// Robustness: one lock-free atomic slot per fd number; a writer killed at any instant leaves
// every slot either set or clear, never torn. A slot set for an event that was answered just
// before the death only makes the supervisor's deny come back with ENOENT (harmless).
// The ledger cannot see an event the decider read but was killed before recording (the
// instant between read(2) returning and Record); FanotifyGroup::DenyOrphanedEvents covers that
// with a sweep over every fd number the decider could have held, done only when the reader
// died inside a read (BeginRead/EndRead), so an ordinary restart is not slowed by it.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "hashdb/result.h"

namespace lockd::os {

class PendingLedger {
 public:
  // fd numbers 0 .. kCapacity-1. The decider's RLIMIT_NOFILE is capped to this (it cannot hold
  // a higher fd), which also bounds the sweep. 65536 slots of 4 bytes: 256 KiB, touched only
  // where fds are used.
  static constexpr int kCapacity = 65536;

  // mmap(MAP_SHARED | MAP_ANONYMOUS): shared with every process forked afterwards.
  static hashdb::Result<PendingLedger> Create();
  ~PendingLedger();
  PendingLedger(PendingLedger&& other) noexcept;
  PendingLedger& operator=(PendingLedger&& other) noexcept;
  PendingLedger(const PendingLedger&) = delete;
  PendingLedger& operator=(const PendingLedger&) = delete;

  // Notes that permission event fd (from process pid) was read and awaits an answer. False
  // when fd is outside the ledger (the caller must then answer the event at once: it could
  // not be recovered after a crash). Thread-safe, async-signal-safe, lock-free.
  bool Record(int fd, pid_t pid);
  // The event on fd was answered (call after the response was written). Thread-safe.
  void Clear(int fd);

  // Brackets one read(2) of the group and the Record calls for what it returned. A reader
  // killed inside the bracket may have taken events it never recorded: only then must the
  // supervisor sweep every fd number (FanotifyGroup::DenyOrphanedEvents); outside it the
  // ledger is exact. Thread-safe, lock-free.
  void BeginRead();
  void EndRead();
  // Whether a reader was inside the bracket (for the supervisor, after the reader died).
  bool ReadInProgress() const;
  // After the supervisor dealt with a dead reader: no read is in progress any more.
  void ResetReads();

  struct Entry {
    int fd = -1;
    pid_t pid = 0;  // 0 when the kernel reported none
  };
  // Atomically empties every slot and returns what was set, by fd number. For the supervisor
  // after the decider died (nobody else writes then).
  std::vector<Entry> TakeAll();
  // How many slots are set (for tests and diagnostics).
  std::size_t CountPending() const;

 private:
  explicit PendingLedger(std::atomic<std::uint32_t>* slots) : slots_(slots) {}
  static constexpr std::uint32_t kSet = 0x80000000u;  // a slot's "set" bit; pids fit below it
  std::atomic<std::uint32_t>* slots_ = nullptr;
};

// What DenyOrphans did.
struct OrphanReport {
  std::size_t denied = 0;                 // events the kernel still held, now denied
  std::size_t denied_outside_ledger = 0;  // of those, found only by the sweep
  std::vector<pid_t> pids;                // the waiting processes, from the ledger
  bool swept = false;                     // the fd sweep ran (the reader died inside a read)
};

// The supervisor's answer to a dead reader (FanotifyGroup::DenyOrphanedEvents does the system
// calls): deny(fd) writes a deny for fd number fd and returns 0 when the kernel took it (an
// event was pending on that number) or an errno. Every fd in the ledger is denied; then, only
// when the reader died inside a read (or there is no ledger), every number 0 .. fd_limit-1
// (at most kCapacity) is tried too. Afterwards the ledger is empty and no read is in progress.
OrphanReport DenyOrphans(PendingLedger* ledger, const std::function<int(int fd)>& deny,
                         int fd_limit);

}  // namespace lockd::os
