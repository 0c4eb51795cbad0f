#include "lockd/exec_decider.h"

#include <algorithm>

#include "hashdb/sha256.h"

namespace lockd {

static_assert(static_cast<std::uint64_t>(kLargeFileBytes) == kUnreadSizeRuleBytes,
              "a file denied unread by size is one the large lane would hash");

namespace {

// Whether a judgement with this reason rests on a digest of the file's content as it is (the
// hash held its version): only then may the digest stand for the version elsewhere.
bool JudgedOnContent(Reason reason) {
  return reason == Reason::kAllowlisted || reason == Reason::kNotInAllowlist ||
         reason == Reason::kWritableByUser;
}

}  // namespace

ExecDecider::ExecDecider(os::EventKernel& kernel, DatabaseManager& databases,
                         const ModeSource& modes, DecisionCache& cache, DecisionSink& sink,
                         Stats& stats, ExecDeciderOptions options)
    : kernel_(kernel),
      databases_(databases),
      modes_(modes),
      cache_(cache),
      sink_(sink),
      stats_(stats),
      coverage_(options.coverage),
      kernel_cache_(options.kernel_cache),
      inline_hash_bytes_(options.inline_hash_bytes),
      attribute_maintenance_(std::move(options.attribute_maintenance)),
      exec_digest_(std::move(options.exec_digest)),
      pool_(std::make_unique<WorkerPool>(options.small_workers, options.large_workers)) {}

ExecDecider::~ExecDecider() { Shutdown(); }

void ExecDecider::Shutdown() {
  if (pool_) pool_->Shutdown();
}

DecisionInput ExecDecider::FactsOf(const PermissionRequest& request, const hashdb::Database* db) {
  DecisionInput input;
  input.database_loaded = db != nullptr;
  input.facts_known = request.facts.ok();
  if (request.facts.ok()) {
    input.regular_file = request.facts->regular();
    input.size = static_cast<std::uint64_t>(std::max<std::int64_t>(0, request.facts->size));
  }
  input.untrusted_filesystem = request.untrusted_filesystem;
  if (db != nullptr) {
    input.deny_untrusted_fs = db->policy().deny_untrusted_fs;
    input.max_allowlisted_size = db->max_file_size();
    input.deny_user_writable = db->policy().deny_user_writable;
    input.trusted_owners = db->policy().trusted_owners;
  }
  return input;
}

std::optional<std::uint64_t> ExecDecider::KernelCacheEpoch(
    Reason reason, const hashdb::Database* db, const std::optional<hashdb::Digest>& digest,
    std::uint64_t dev, std::uint64_t epoch) const {
  if (kernel_cache_ == nullptr || reason != Reason::kAllowlisted || db == nullptr ||
      !digest.has_value() || !kernel_cache_->Qualifies(dev)) {
    return std::nullopt;
  }
  auto found = db->Lookup(*digest);
  if (!found.has_value() || found->interpreter) return std::nullopt;
  return epoch;
}

void ExecDecider::Submit(PermissionRequest request) {
  stats_.pending.fetch_add(1, std::memory_order_relaxed);
  // Before the database (kernel_cache.h): a swap after this makes the epoch stale.
  const std::uint64_t kernel_epoch = kernel_cache_ != nullptr ? kernel_cache_->Epoch() : 0;
  std::shared_ptr<const hashdb::Database> db = databases_.Current();
  const DecisionInput input = FactsOf(request, db.get());
  if (auto early = JudgeWithoutContent(input)) {
    std::vector<PermissionRequest> one;
    one.push_back(std::move(request));
    return Answer(one, *early, db.get(), std::nullopt, false);
  }
  const FileFacts facts = *request.facts;
  if (request.cache_allowed) {
    if (auto hit = cache_.Lookup(facts)) {
      if (request.exec && exec_digest_ && JudgedOnContent(hit->reason)) {
        exec_digest_(facts, hit->digest);
      }
      std::vector<PermissionRequest> one;
      one.push_back(std::move(request));
      return Answer(one, hit->reason, db.get(), hit->digest, true,
                    KernelCacheEpoch(hit->reason, db.get(), hit->digest, facts.dev, kernel_epoch));
    }
  }

  const VersionKey key{facts.dev, facts.ino, facts.size, facts.mtime_ns, facts.ctime_ns};
  const bool cache_allowed = request.cache_allowed;
  // Never on the submitting thread for FUSE or network files: even a read that waits for no
  // disk may first ask the server for fresh attributes.
  const bool may_inline = facts.size <= inline_hash_bytes_ && !request.untrusted_filesystem;
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
  if (may_inline && Hash(key, facts, cache_allowed, true)) {
    stats_.hashed_inline.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pool_->Post(lane, [this, key, facts, cache_allowed] { Hash(key, facts, cache_allowed); });
}

bool ExecDecider::Hash(const VersionKey& key, const FileFacts& facts, bool cache_allowed,
                       bool cached_only) {
  // The ticket first, the database second: a swap between the two clears the cache after the
  // ticket, so a judgement against the old database can never be inserted after the swap.
  const std::uint64_t ticket = cache_.Begin();
  const std::uint64_t kernel_epoch = kernel_cache_ != nullptr ? kernel_cache_->Epoch() : 0;
  std::shared_ptr<const hashdb::Database> db = databases_.Current();
  int fd = -1;
  bool untrusted = false;
  {
    std::lock_guard lock(mu_);
    const PermissionRequest& first = in_flight_[key].front();
    fd = first.fd.get();
    untrusted = first.untrusted_filesystem;
  }
  PermissionRequest probe;
  probe.facts = facts;
  probe.untrusted_filesystem = untrusted;
  DecisionInput input = FactsOf(probe, db.get());
  bool read_content = false;  // input.digest is the digest of what was read
  if (!JudgeWithoutContent(input)) {
    auto before = kernel_.Stat(fd);
    if (!before.ok()) {
      input.hash = HashStatus::kReadFailed;
    } else if (!before->SameVersion(facts)) {
      // Changed since the event (grown to gigabytes, say): what would run is not what the
      // event showed, and reading it to its new size would hold this thread (the event loop,
      // for an inline hash) for as long as the file is large. Denied unread.
      input.owner_uid = before->uid;
      input.file_mode = before->mode;
      input.hash = HashStatus::kChanged;
    } else {
      input.owner_uid = before->uid;
      input.file_mode = before->mode;
      auto digest = cached_only ? hashdb::Sha256FileCached(fd, before->size)
                                : hashdb::Sha256File(fd, before->size);
      // Not all in the page cache: nothing was answered or counted yet; a worker will.
      if (cached_only && !digest.ok() && digest.error().code == hashdb::ErrorCode::kUnsupported) {
        return false;
      }
      auto after = kernel_.Stat(fd);
      read_content = digest.ok();
      stats_.hashes.fetch_add(1, std::memory_order_relaxed);
      stats_.hashed_bytes.fetch_add(static_cast<std::uint64_t>(before->size),
                                    std::memory_order_relaxed);
      if (!digest.ok()) {
        input.hash = digest.error().code == hashdb::ErrorCode::kConflict ? HashStatus::kChanged
                                                                         : HashStatus::kReadFailed;
      } else if (!after.ok() || !before->SameVersion(*after) ||
                 cache_.InvalidatedSince(facts.dev, facts.ino, ticket)) {
        // A change between the loop's fstat, ours, and the end of the hash, or a write
        // notification for the inode while we hashed: what will run is not what was hashed.
        input.hash = HashStatus::kChanged;
        input.digest = *digest;
      } else {
        input.hash = HashStatus::kOk;
        input.digest = *digest;
        input.lookup = db->Lookup(*digest);
      }
    }
  }
  const Reason reason = Judge(input);
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
  // Before any waiter is answered: an exec'd interpreter is recognised by its digest from its
  // first open on, without hashing it again.
  if (input.hash == HashStatus::kOk && exec_digest_ &&
      std::any_of(waiters.begin(), waiters.end(), [](const auto& w) { return w.exec; })) {
    exec_digest_(facts, input.digest);
  }
  std::optional<hashdb::Digest> digest;
  if (input.hash == HashStatus::kOk || (input.hash == HashStatus::kChanged && read_content)) {
    digest = input.digest;
  }
  Answer(waiters, reason, db.get(), digest, false,
         input.hash == HashStatus::kOk
             ? KernelCacheEpoch(reason, db.get(), digest, facts.dev, kernel_epoch)
             : std::nullopt);
  return true;
}

void ExecDecider::Answer(std::vector<PermissionRequest>& waiters, Reason reason,
                         const hashdb::Database* db, const std::optional<hashdb::Digest>& digest,
                         bool from_cache, std::optional<std::uint64_t> kernel_epoch) {
  // Without a database there is nothing to allow against: enforce.
  const EffectiveMode mode = db != nullptr ? modes_.Current(db->policy()) : EffectiveMode::kEnforce;
  const Decision decision = ApplyMode(reason, mode);
  std::vector<DecisionRecord> records;
  if (decision.notable()) {
    for (auto& w : waiters) {
      DecisionRecord& r = records.emplace_back();
      r.verdict = decision.verdict;
      r.reason = decision.reason;
      r.mode = mode;
      r.from_cache = from_cache;
      r.exec = w.exec;
      r.pid = w.pid;
      r.digest = digest;
      if (w.facts.ok()) {
        r.dev = w.facts->dev;
        r.ino = w.facts->ino;
      }
      r.db_generation = db != nullptr ? db->generation() : 0;
      // Who is executing, read before answering: after a deny the process may exit at once,
      // after an allow its image is replaced. A few small /proc reads, for notable decisions
      // only; nothing is written anywhere before the answer.
      os::ProcessFacts f = kernel_.Process(w.pid);
      r.ppid = f.ppid;
      r.uid = f.uid;
      r.tty_nr = f.tty_nr;
      r.exe = std::move(f.exe);
      // Whether the maintenance session runs it: now, while the process is held.
      if (mode == EffectiveMode::kMaintenance && attribute_maintenance_) {
        r.maintenance_by = attribute_maintenance_(w.pid);
      }
    }
  }
  // A refused exec is noted before the kernel hears of it: the opens it causes (bash reading
  // the head of what it could not run, the kernel's FAN_OPEN_PERM after an exec allowed in
  // audit mode) come only after the answer, and may be decided on another thread, from the
  // cache, before this one gets to logging (exec_followup.h).
  // An open that only follows a refused exec (same process, same file) is the same act: it is
  // answered like the exec but neither counted again nor recorded. records[i] is waiters[i]'s.
  const auto now = ExecFollowUps::Clock::now();
  std::vector<bool> follow_up(records.size(), false);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const DecisionRecord& r = records[i];
    if (r.exec) {
      follow_ups_.NoteRefusedExec(r.pid, r.dev, r.ino, now);
    } else {
      follow_up[i] = follow_ups_.IsFollowUp(r.pid, r.dev, r.ino, now);
    }
  }
  // The open the kernel raises next for an allowed exec is the same act (exec_open_pairing.h).
  if (decision.allow()) {
    for (const auto& w : waiters) {
      if (w.exec && w.facts.ok()) allowed_execs_.NoteAllowedExec(w.pid, *w.facts, now);
    }
  }
  // Answer all waiters before logging any of them.
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    if (!kernel_.Respond(waiters[i].fd.get(), decision.allow()).ok()) {
      stats_.response_errors.fetch_add(1, std::memory_order_relaxed);
    }
    stats_.pending.fetch_sub(1, std::memory_order_relaxed);
    if (i < follow_up.size() && follow_up[i]) {
      stats_.follow_ups_not_recorded.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.Count(decision.verdict);
    }
  }
  // After the answers (the mark only spares later events a round trip). One mark per inode:
  // every waiter here is the same file version.
  if (kernel_epoch.has_value() && decision.allow()) {
    for (const auto& w : waiters) {
      if (!w.facts.ok() || !w.facts->regular() || w.untrusted_filesystem) continue;
      (void)kernel_cache_->Offer(w.fd.get(), *w.facts, *kernel_epoch);
      break;
    }
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (follow_up[i]) continue;
    DecisionRecord& r = records[i];
    r.time_unix_ns = NowUnixNs();
    const int fd = waiters[i].fd.get();
    r.path =
        coverage_ != nullptr ? coverage_->EventPath(fd, kernel_.FdPath(fd)) : kernel_.FdPath(fd);
    stats_.RecordDenial(r);
    sink_.OnDecision(r);
  }
}

}  // namespace lockd
