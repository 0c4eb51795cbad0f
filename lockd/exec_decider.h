#pragma once
// ExecDecider: turns permission events into answers. The event loop (event_loop.cpp) reads
// events, applies write notifications to the cache and hands each permission request here.
//
// A request is an exec (FAN_OPEN_EXEC_PERM) or a plain open the event loop found to be a load
// of code (FAN_OPEN_PERM of a loadable ELF, or of a script read by an interpreter: see
// lockd/coverage.h); both are judged the same way.
//
// Path of one request (every Reason is chosen by lockd::Judge, decision.h, from the facts):
//   the facts known without reading the file (database, fstat, filesystem, size) decide? ->
//   answer; else cache hit (only when the loop proved the entry usable: see decision_cache.h)
//   -> answer in the loop's thread; otherwise -> join an in-flight judgement of the same
//   inode version, or post a new one to the worker pool (large files to their own lane) ->
//   worker: fstat, hash the event fd (never the path), fstat again, look the digest up in the
//   database held for the whole judgement -> Judge.
// Every answer goes through one tail (Answer): for a deny or would-deny, the executing
// process's facts are read from /proc first (afterwards it may have exited or become another
// image); every waiting request is answered; then notable decisions go to the DecisionSink,
// except an open that only follows a refused exec of the same file by the same process
// (exec_followup.h: one exec, one record). The kernel is always answered before any logging.
//
// Thread-safety: Submit from the event loop thread; everything else internal.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/database_manager.h"
#include "lockd/decision.h"
#include "lockd/decision_cache.h"
#include "lockd/decision_sink.h"
#include "lockd/exec_followup.h"
#include "lockd/exec_open_pairing.h"
#include "lockd/file_facts.h"
#include "lockd/filesystem_marker.h"
#include "lockd/kernel_cache.h"
#include "lockd/mode.h"
#include "lockd/os/event_kernel.h"
#include "lockd/stats.h"
#include "lockd/worker_pool.h"

namespace lockd {

struct PermissionRequest {
  hashdb::UniqueFd fd;  // the event fd; closed once answered and logged
  pid_t pid = 0;
  // FAN_OPEN_EXEC_PERM (an exec); false for a plain open judged as a load of code.
  bool exec = true;
  hashdb::Result<FileFacts> facts = FileFacts{};  // fstat of fd by the loop
  // The loop's verdict on whether the cache may answer (filesystem-marked, no writers, queue
  // drained after the writer probe). When false the request is always hashed.
  bool cache_allowed = false;
  // The file lives on a FUSE or network filesystem (FilesystemMarker::Untrusted): denied with
  // Reason::kUntrustedFilesystem when the policy has deny_untrusted_fs, else hashed (never
  // cached: cache_allowed is false for these).
  bool untrusted_filesystem = false;
};

// The daemon's ExecDeciderOptions::inline_hash_bytes.
inline constexpr std::int64_t kInlineHashBytes = 128 * 1024;

struct ExecDeciderOptions {
  unsigned small_workers = 2;
  unsigned large_workers = 1;
  // Names the event's file in audit records (FilesystemCoverage::EventPath: files reached
  // through an overlay); null: the kernel's path of the fd as it is. Must outlive the decider.
  const FilesystemCoverage* coverage = nullptr;
  // In maintenance mode: whose process this is (MaintenanceController::AttributeNow), asked
  // before the answer while the process is held. May be empty.
  std::function<std::string(int pid)> attribute_maintenance;
  // Told the digest of each file version an exec request was judged on by content (hashed
  // here, or found in the cache with a content reason), on the thread that judged it, before
  // the exec is answered: script coverage's interpreter-by-digest cache
  // (ScriptCoverage::NoteDigest), so the decider's hash is the only one of a new executable.
  // Must return at once. May be empty.
  std::function<void(const FileFacts& facts, const hashdb::Digest& digest)> exec_digest;
  // Files allowed for their content on a superblock whose content cannot change are left to
  // the kernel from then on (kernel_cache.h: an ignore mark). Null: never. Must outlive the
  // decider.
  KernelCache* kernel_cache = nullptr;
  // A file of at most this many bytes whose content is all in the page cache is hashed on the
  // submitting thread (the event loop) instead of a worker: no hand-over, no wake-up, for the
  // common first exec of a small binary. Reads never wait (Sha256FileCached); anything not
  // cached goes to a worker as before. Bounds how long one judgement holds the loop (about
  // 75 us per 128 KiB). 0: always a worker (the FUSE and network decider).
  std::int64_t inline_hash_bytes = 0;
};

class ExecDecider {
 public:
  // kernel answers the events and tells who the processes are; it must outlive the decider.
  ExecDecider(os::EventKernel& kernel, DatabaseManager& databases, const ModeSource& modes,
              DecisionCache& cache, DecisionSink& sink, Stats& stats, ExecDeciderOptions options);
  ~ExecDecider();
  ExecDecider(const ExecDecider&) = delete;
  ExecDecider& operator=(const ExecDecider&) = delete;

  void Submit(PermissionRequest request);
  // Whether a plain open (FAN_OPEN_PERM) by pid of this file version is the second event of an
  // exec this decider just allowed (AllowedExecOpens): then it is allowed without judging it
  // again. Consumes the note. Thread-safe.
  bool IsOpenOfAllowedExec(pid_t pid, const FileFacts& version) {
    return allowed_execs_.TakeOpenOfExec(pid, version, AllowedExecOpens::Clock::now());
  }
  // Answers everything still queued or in flight, then stops the workers.
  void Shutdown();
  // When the oldest judgement a worker is running now started (WorkerPool::OldestRunningSince);
  // nullopt when no worker is busy. Thread-safe.
  std::optional<std::chrono::steady_clock::time_point> OldestJudgementSince() const {
    return pool_->OldestRunningSince();
  }

 private:
  using VersionKey =
      std::tuple<std::uint64_t, std::uint64_t, std::int64_t, std::int64_t, std::int64_t>;

  // The facts of a request known without reading its file.
  static DecisionInput FactsOf(const PermissionRequest& request, const hashdb::Database* db);
  // On a worker: hashes the first waiter's fd and answers every waiter of this version.
  // With `cached_only`, reads only from the page cache and returns false, having answered
  // nothing, when the content is not all there (Submit then posts it to a worker); otherwise
  // true.
  bool Hash(const VersionKey& key, const FileFacts& facts, bool cache_allowed,
            bool cached_only = false);
  // The one tail of every decision: answer each waiter (process facts first for notable
  // decisions), then record what must be recorded.
  // kernel_epoch: set when an allow may be left to the kernel (KernelCacheEpoch).
  void Answer(std::vector<PermissionRequest>& waiters, Reason reason, const hashdb::Database* db,
              const std::optional<hashdb::Digest>& digest, bool from_cache,
              std::optional<std::uint64_t> kernel_epoch = std::nullopt);
  // The KernelCache epoch to offer a judgement under, when it rests on the content alone and
  // holds for every opener (kAllowlisted, not an interpreter: script coverage must see its
  // execs) and the file's superblock qualifies; epoch was read before db.
  std::optional<std::uint64_t> KernelCacheEpoch(Reason reason, const hashdb::Database* db,
                                                const std::optional<hashdb::Digest>& digest,
                                                std::uint64_t dev, std::uint64_t epoch) const;

  os::EventKernel& kernel_;
  DatabaseManager& databases_;
  const ModeSource& modes_;
  DecisionCache& cache_;
  DecisionSink& sink_;
  Stats& stats_;
  const FilesystemCoverage* coverage_;
  KernelCache* const kernel_cache_;
  const std::int64_t inline_hash_bytes_;
  std::function<std::string(int pid)> attribute_maintenance_;
  std::function<void(const FileFacts&, const hashdb::Digest&)> exec_digest_;
  ExecFollowUps follow_ups_;
  AllowedExecOpens allowed_execs_;
  std::mutex mu_;
  // Requests waiting for the judgement of one inode version (the first one's fd is hashed).
  std::map<VersionKey, std::vector<PermissionRequest>> in_flight_;
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace lockd
