#include "lockd/exec_decider.h"

#include "hashdb/sha256.h"
#include "lockd/os/file_probe.h"

namespace lockd {

namespace {

ExecDeciderOptions Normalize(ExecDeciderOptions o) {
  if (!o.fd_path) o.fd_path = [](int) { return std::string(); };
  return o;
}

}  // namespace

ExecDecider::ExecDecider(Responder responder, DatabaseManager& databases, const ModeSource& modes,
                         DecisionCache& cache, DecisionSink& sink, Stats& stats,
                         ExecDeciderOptions options)
    : responder_(std::move(responder)),
      databases_(databases),
      modes_(modes),
      cache_(cache),
      sink_(sink),
      stats_(stats),
      options_(Normalize(std::move(options))),
      pool_(std::make_unique<WorkerPool>(options_.small_workers, options_.large_workers)) {}

ExecDecider::~ExecDecider() { Shutdown(); }

void ExecDecider::Shutdown() {
  if (pool_) pool_->Shutdown();
}

void ExecDecider::Submit(PermissionRequest request) {
  stats_.pending.fetch_add(1, std::memory_order_relaxed);
  if (!request.facts.ok()) return AnswerWithoutHash(request, Reason::kReadFailed);
  const FileFacts facts = *request.facts;
  if (!facts.regular()) return AnswerWithoutHash(request, Reason::kNotRegularFile);
  std::shared_ptr<const hashdb::Database> db = databases_.Current();
  if (db == nullptr) return AnswerWithoutHash(request, Reason::kReadFailed);
  if (request.untrusted_filesystem && db->policy().deny_untrusted_fs) {
    return AnswerWithoutHash(request, Reason::kUntrustedFilesystem);
  }
  // Large files only (the large lane's threshold): a small foreign file is still hashed, so its
  // deny record carries the digest an auditor needs; a huge one cannot occupy a worker.
  if (facts.size >= kLargeFileBytes &&
      static_cast<std::uint64_t>(facts.size) > db->max_file_size()) {
    return AnswerWithoutHash(request, Reason::kLargerThanAllowlist);
  }

  if (request.cache_allowed) {
    if (auto hit = cache_.Lookup(facts)) {
      const EffectiveMode mode = modes_.Current(db->policy());
      Finish(request, ApplyMode(hit->reason, mode), mode, hit->digest, db->generation(), true);
      return;
    }
  }

  const VersionKey key{facts.dev, facts.ino, facts.size, facts.mtime_ns, facts.ctime_ns};
  const bool cache_allowed = request.cache_allowed;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = in_flight_.try_emplace(key);
    it->second.push_back(std::move(request));
    if (!inserted) {
      stats_.joined_in_flight.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  const Lane lane = facts.size >= kLargeFileBytes ? Lane::kLarge : Lane::kSmall;
  pool_->Post(lane, [this, key, facts, cache_allowed] { Judge(key, facts, cache_allowed); });
}

void ExecDecider::Judge(const VersionKey& key, const FileFacts& facts, bool cache_allowed) {
  // The ticket first, the database second: a swap between the two clears the cache after the
  // ticket, so a judgement against the old database can never be inserted after the swap.
  const std::uint64_t ticket = cache_.Begin();
  std::shared_ptr<const hashdb::Database> db = databases_.Current();
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    fd = in_flight_[key].front().fd.get();
  }
  DecisionInput input;
  input.regular_file = true;
  if (db != nullptr) {
    input.deny_user_writable = db->policy().deny_user_writable;
    input.trusted_owners = db->policy().trusted_owners;
  }
  auto before = os::StatFd(fd);
  if (!before.ok()) {
    input.hash = HashStatus::kReadFailed;
  } else {
    input.owner_uid = before->uid;
    input.file_mode = before->mode;
    auto digest = hashdb::Sha256File(fd, before->size);
    auto after = os::StatFd(fd);
    stats_.hashes.fetch_add(1, std::memory_order_relaxed);
    stats_.hashed_bytes.fetch_add(static_cast<std::uint64_t>(before->size),
                                  std::memory_order_relaxed);
    if (!digest.ok()) {
      input.hash = digest.error().code == hashdb::ErrorCode::kConflict ? HashStatus::kChanged
                                                                       : HashStatus::kReadFailed;
    } else if (!after.ok() || !before->SameVersion(*after) || !before->SameVersion(facts) ||
               cache_.InvalidatedSince(facts.dev, facts.ino, ticket)) {
      // A change between the loop's fstat, ours, and the end of the hash, or a write
      // notification for the inode while we hashed: what will run is not what was hashed.
      input.hash = HashStatus::kChanged;
      input.digest = *digest;
    } else {
      input.hash = HashStatus::kOk;
      input.digest = *digest;
      if (db != nullptr) input.lookup = db->Lookup(*digest);
    }
  }
  Reason reason = db == nullptr ? Reason::kReadFailed : lockd::Judge(input);
  if (cache_allowed && db != nullptr) {
    cache_.Insert(CachedJudgement{facts, reason, input.digest}, ticket);
  }
  std::vector<PermissionRequest> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    waiters = std::move(it->second);
    in_flight_.erase(it);
  }
  const EffectiveMode mode = db != nullptr ? modes_.Current(db->policy()) : EffectiveMode::kEnforce;
  const Decision decision = ApplyMode(reason, mode);
  std::optional<hashdb::Digest> digest;
  if (input.hash == HashStatus::kOk || input.hash == HashStatus::kChanged) digest = input.digest;
  std::vector<DecisionRecord> records;
  if (decision.notable()) {
    for (auto& w : waiters) {
      DecisionRecord& r = records.emplace_back();
      r.verdict = decision.verdict;
      r.reason = decision.reason;
      r.mode = mode;
      r.pid = w.pid;
      r.digest = digest;
      r.dev = facts.dev;
      r.ino = facts.ino;
      r.db_generation = db != nullptr ? db->generation() : 0;
      // Who is executing, read before answering: after a deny the process may exit at once,
      // after an allow its image is replaced. A few small /proc reads, for notable decisions
      // only; nothing is written anywhere before the answer.
      if (options_.fill_process_facts) options_.fill_process_facts(r);
    }
  }
  // Answer all waiters before logging any of them.
  for (auto& w : waiters) {
    if (!responder_(w.fd.get(), decision.allow()).ok()) {
      stats_.response_errors.fetch_add(1, std::memory_order_relaxed);
    }
    stats_.pending.fetch_sub(1, std::memory_order_relaxed);
    stats_.Count(decision.verdict);
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    DecisionRecord& r = records[i];
    r.time_unix_ns = NowUnixNs();
    r.path = options_.fd_path(waiters[i].fd.get());
    stats_.RecordDenial(r);
    sink_.OnDecision(r);
  }
}

void ExecDecider::Finish(PermissionRequest& request, const Decision& decision, EffectiveMode mode,
                         const std::optional<hashdb::Digest>& digest, std::uint64_t generation,
                         bool from_cache) {
  DecisionRecord r;
  r.pid = request.pid;
  r.mode = mode;  // fill_process_facts looks at it (maintenance: whose process this is)
  // Who is executing, read before answering (see Judge).
  if (decision.notable() && options_.fill_process_facts) options_.fill_process_facts(r);
  if (!responder_(request.fd.get(), decision.allow()).ok()) {
    stats_.response_errors.fetch_add(1, std::memory_order_relaxed);
  }
  stats_.pending.fetch_sub(1, std::memory_order_relaxed);
  stats_.Count(decision.verdict);
  if (!decision.notable()) return;
  r.time_unix_ns = NowUnixNs();
  r.verdict = decision.verdict;
  r.reason = decision.reason;
  r.mode = mode;
  r.from_cache = from_cache;
  r.pid = request.pid;
  r.path = options_.fd_path(request.fd.get());
  r.digest = digest;
  if (request.facts.ok()) {
    r.dev = request.facts->dev;
    r.ino = request.facts->ino;
  }
  r.db_generation = generation;
  stats_.RecordDenial(r);
  sink_.OnDecision(r);
}

void ExecDecider::AnswerWithoutHash(PermissionRequest& request, Reason reason) {
  std::shared_ptr<const hashdb::Database> db = databases_.Current();
  // Without a database there is nothing to allow against: enforce.
  const EffectiveMode mode = db != nullptr ? modes_.Current(db->policy()) : EffectiveMode::kEnforce;
  Finish(request, ApplyMode(reason, mode), mode, std::nullopt, db != nullptr ? db->generation() : 0,
         false);
}

}  // namespace lockd
