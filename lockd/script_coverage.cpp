#include "lockd/script_coverage.h"

#include "hashdb/policy.h"
#include "hashdb/sha256.h"

namespace lockd {

namespace {

std::string_view Basename(std::string_view path) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.remove_suffix(kDeleted.size());
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool Matches(const os::Resolved& r, const FileFacts& file) {
  return r.lookup == os::Lookup::kFound && r.id.dev == file.dev && r.id.ino == file.ino;
}

}  // namespace

ScriptCoverage::ScriptCoverage(os::EventKernel& kernel, const FilesystemCoverage* coverage,
                               bool background_hasher)
    : kernel_(kernel), coverage_(coverage) {
  if (background_hasher) hasher_ = std::thread([this] { HasherLoop(); });
}

ScriptCoverage::~ScriptCoverage() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (hasher_.joinable()) hasher_.join();
}

std::size_t ScriptCoverage::digests_cached() const {
  std::lock_guard lock(mu_);
  return digests_.size();
}

OpenerInfo ScriptCoverage::Opener(pid_t pid, const std::vector<std::string>& interpreters,
                                  const hashdb::Database* db) {
  OpenerInfo info;
  info.exe = kernel_.ExecutablePath(pid);
  // By name first: no identity needed (exe_id stays 0/0; the path names the image).
  if (!info.exe.empty() && hashdb::IsInterpreterName(Basename(info.exe), interpreters)) {
    info.interpreter = Tristate::kYes;
    return info;
  }
  if (info.exe.empty()) return info;  // gone or a kernel thread: kUnknown
  // The identity from the kernel's cached attributes: no open, no request to a server.
  std::optional<FileFacts> facts = kernel_.ExecutableFacts(pid);
  if (!facts) return info;
  info.exe_id = os::FileId{facts->dev, facts->ino};
  if (db == nullptr) {
    info.interpreter = Tristate::kNo;
    return info;
  }
  std::optional<hashdb::Digest> digest;
  {
    std::lock_guard lock(mu_);
    auto it = digests_.find(KeyOf(*facts));
    if (it != digests_.end()) digest = it->second;
  }
  if (!digest) {
    const bool untrusted = coverage_ != nullptr && coverage_->Untrusted(facts->dev);
    const bool exec_checked =
        coverage_ == nullptr || untrusted || coverage_->FilesystemMarked(facts->dev);
    // Unknown until hashed where lockd checks execs; elsewhere a name decides (see above), so
    // nothing there is read.
    if (!exec_checked) {
      info.interpreter = Tristate::kNo;
      return info;
    }
    // Hashed in the background, except where the read could wait on a FUSE or network server.
    if (!untrusted) Enqueue(*facts, pid);
    return info;
  }
  auto hit = db->Lookup(*digest);
  info.interpreter = hit && hit->interpreter ? Tristate::kYes : Tristate::kNo;
  return info;
}

ScriptCoverage::Process* ScriptCoverage::ProcessFor(pid_t pid, const OpenerInfo& opener) {
  ++clock_;
  auto it = processes_.find(pid);
  if (it != processes_.end()) {
    Process& p = it->second;
    if (p.exe == opener.exe_id && p.exe_path == opener.exe && kernel_.ImageAlive(p.image)) {
      p.last_use = clock_;
      return &p;
    }
    processes_.erase(it);
  }
  if (processes_.size() >= kMaxProcesses) {
    auto oldest = processes_.begin();
    for (auto i = processes_.begin(); i != processes_.end(); ++i) {
      if (i->second.last_use < oldest->second.last_use) oldest = i;
    }
    processes_.erase(oldest);
  }
  auto image = kernel_.ReadProcessImage(pid);
  ++proc_reads_;
  if (!image.ok()) return nullptr;
  Process p;
  p.image = std::move(*image);
  p.exe = opener.exe_id;
  p.exe_path = opener.exe;
  const std::vector<std::string>& argv = p.image.argv;
  const InterpreterFamily family =
      FamilyOf(Basename(opener.exe), argv.empty() ? std::string_view() : argv[0]);
  ScriptCandidates script = ScriptArguments(family, argv);
  for (std::size_t i = 0; i < script.paths.size(); ++i) {
    p.candidates.push_back({script.paths[i], script.search_path && i == 0, {}});
  }
  for (std::string& f : StartupFiles(family, p.image.env)) {
    p.candidates.push_back({std::move(f), false, {}});
  }
  for (const std::string& e : p.image.env) {
    if (e.starts_with("PATH=")) {
      p.path_var = e.substr(5);
      break;
    }
  }
  p.last_use = clock_;
  return &processes_.insert_or_assign(pid, std::move(p)).first->second;
}

Tristate ScriptCoverage::NamedByProcess(pid_t pid, const OpenerInfo& opener,
                                        const FileFacts& file) {
  Process* p = ProcessFor(pid, opener);
  if (p == nullptr) return Tristate::kUnknown;
  Tristate result = Tristate::kNo;
  for (Candidate& c : p->candidates) {
    os::Resolved r = kernel_.ResolveForProcess(p->image, c.path);
    if (r.lookup == os::Lookup::kAbsent && c.search_path) {
      r = kernel_.ResolveInSearchPath(p->image, c.path, p->path_var);
    }
    if (r.lookup == os::Lookup::kFound) {
      bool known = false;
      for (const os::FileId& id : c.seen) known = known || id == r.id;
      if (!known && c.seen.size() < 8) c.seen.push_back(r.id);
    }
    if (Matches(r, file)) return Tristate::kYes;
    for (const os::FileId& id : c.seen) {
      if (id.dev == file.dev && id.ino == file.ino) return Tristate::kYes;
    }
    if (r.lookup == os::Lookup::kNotCached && c.seen.empty()) result = Tristate::kUnknown;
  }
  return result;
}

void ScriptCoverage::OnExec(pid_t pid) { processes_.erase(pid); }

void ScriptCoverage::NoteDigest(const FileFacts& facts, const hashdb::Digest& digest) {
  if (!facts.regular()) return;
  Store(facts, digest);
}

void ScriptCoverage::Store(const FileFacts& facts, const hashdb::Digest& digest) {
  std::lock_guard lock(mu_);
  if (digests_.size() >= kMaxDigests && digests_.count(KeyOf(facts)) == 0) digests_.clear();
  digests_[KeyOf(facts)] = digest;
}

void ScriptCoverage::Enqueue(const FileFacts& facts, pid_t pid) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued || !queued_.emplace(KeyOf(facts), true).second) return;
    queue_.push_back({facts, pid});
  }
  cv_.notify_one();
}

void ScriptCoverage::HashPending() {
  for (;;) {
    Job job;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    // Off the event loop thread: this open is lockd's own (the loop answers it at once) and
    // the read may take as long as the file is large. The version is checked before and after,
    // so a process that exec'd another image since (or a reused pid) stores nothing wrong.
    auto fd = kernel_.OpenExecutable(job.pid);
    if (fd.ok()) {
      auto before = kernel_.Stat(fd->get());
      if (before.ok() && before->SameVersion(job.facts)) {
        auto digest = hashdb::Sha256File(fd->get(), before->size);
        own_hashes_.fetch_add(1, std::memory_order_relaxed);
        auto after = kernel_.Stat(fd->get());
        if (digest.ok() && after.ok() && after->SameVersion(job.facts)) Store(job.facts, *digest);
      }
    }
    std::lock_guard lock(mu_);
    queued_.erase(KeyOf(job.facts));
  }
}

void ScriptCoverage::HasherLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
    }
    HashPending();
  }
}

}  // namespace lockd
