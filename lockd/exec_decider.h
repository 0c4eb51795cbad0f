#pragma once
// ExecDecider: turns permission events into answers. The event loop (event_loop.cpp) reads
// events, applies write notifications to the cache and hands each permission request here.
//
// A request is an exec (FAN_OPEN_EXEC_PERM) or a plain open the event loop found to be a load
// of code (FAN_OPEN_PERM of a loadable ELF, or of a script read by an interpreter: see
// lockd/coverage.h); both are judged the same way.
//
// Path of one request:
//   untrusted filesystem under deny_untrusted_fs -> deny without reading; else
//   cache hit (only when the loop proved the entry usable: see decision_cache.h) -> answer
//   in the loop's thread; otherwise -> join an in-flight judgement of the same inode version,
//   or post a new one to the worker pool (large files to their own lane) -> worker: fstat,
//   hash the event fd (never the path), fstat again, look the digest up in the database held
//   for the whole judgement -> for a deny or would-deny only, read the executing process's
//   facts from /proc (before answering: afterwards it may have exited or become another
//   image) -> answer every waiting request -> then emit notable decisions to the
//   DecisionSink. The kernel is always answered before any logging.
//
// Thread-safety: Submit from the event loop thread; everything else internal.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"
#include "lockd/database_manager.h"
#include "lockd/decision.h"
#include "lockd/decision_cache.h"
#include "lockd/decision_sink.h"
#include "lockd/file_facts.h"
#include "lockd/mode.h"
#include "lockd/stats.h"
#include "lockd/worker_pool.h"

namespace lockd {

struct PermissionRequest {
  hashdb::UniqueFd fd;  // the event fd; closed once answered and logged
  pid_t pid = 0;
  hashdb::Result<FileFacts> facts = FileFacts{};  // fstat of fd by the loop
  // The loop's verdict on whether the cache may answer (filesystem-marked, no writers, queue
  // drained after the writer probe). When false the request is always hashed.
  bool cache_allowed = false;
  // The file lives on a FUSE or network filesystem (FilesystemMarker::Untrusted): denied with
  // Reason::kUntrustedFilesystem when the policy has deny_untrusted_fs, else hashed (never
  // cached: cache_allowed is false for these).
  bool untrusted_filesystem = false;
};

// Writes the answer for one event fd (FanotifyGroup::Respond in the daemon, a recorder in
// tests).
using Responder = std::function<hashdb::Status(int fd, bool allow)>;

struct ExecDeciderOptions {
  unsigned small_workers = 2;
  unsigned large_workers = 1;
  // Gathers pid facts for the log (os::ReadProcessFacts in the daemon), and in maintenance
  // mode (r.mode is set) whose process it is, before the answer. May be empty.
  std::function<void(DecisionRecord&)> fill_process_facts;
  // The file path of an event fd (os::FdPath in the daemon).
  std::function<std::string(int fd)> fd_path;
};

class ExecDecider {
 public:
  ExecDecider(Responder responder, DatabaseManager& databases, const ModeSource& modes,
              DecisionCache& cache, DecisionSink& sink, Stats& stats, ExecDeciderOptions options);
  ~ExecDecider();
  ExecDecider(const ExecDecider&) = delete;
  ExecDecider& operator=(const ExecDecider&) = delete;

  void Submit(PermissionRequest request);
  // Answers everything still queued or in flight, then stops the workers.
  void Shutdown();

 private:
  using VersionKey =
      std::tuple<std::uint64_t, std::uint64_t, std::int64_t, std::int64_t, std::int64_t>;
  struct Judgement;

  void Judge(const VersionKey& key, const FileFacts& facts, bool cache_allowed);
  // Answers one request with a decision, then logs it if notable.
  void Finish(PermissionRequest& request, const Decision& decision, EffectiveMode mode,
              const std::optional<hashdb::Digest>& digest, std::uint64_t generation,
              bool from_cache);
  // A decision without hashing (no database, not a regular file, fstat failed).
  void AnswerWithoutHash(PermissionRequest& request, Reason reason);

  Responder responder_;
  DatabaseManager& databases_;
  const ModeSource& modes_;
  DecisionCache& cache_;
  DecisionSink& sink_;
  Stats& stats_;
  ExecDeciderOptions options_;
  std::mutex mu_;
  // Requests waiting for the judgement of one inode version (the first one's fd is hashed).
  std::map<VersionKey, std::vector<PermissionRequest>> in_flight_;
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace lockd
