#include "lockd/script_coverage.h"

#include <fcntl.h>
#include <unistd.h>

#include "hashdb/policy.h"
#include "hashdb/sha256.h"
#include "lockd/os/file_probe.h"
#include "lockd/os/open_probe.h"

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

ScriptCoverage::ScriptCoverage(std::function<bool(std::uint64_t)> exec_checked,
                               bool background_hasher, std::string proc_root)
    : exec_checked_(std::move(exec_checked)), proc_root_(std::move(proc_root)) {
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
  info.exe = os::ProcessExe(pid, proc_root_);
  // By name first: no identity needed (exe_id stays 0/0; the path names the image).
  if (!info.exe.empty() && hashdb::IsInterpreterName(Basename(info.exe), interpreters)) {
    info.interpreter = Tristate::kYes;
    return info;
  }
  if (info.exe.empty()) return info;  // gone or a kernel thread: kUnknown
  // O_PATH: no open of the file itself, so no fanotify event for lockd's own access.
  const std::string link = proc_root_ + "/" + std::to_string(pid) + "/exe";
  hashdb::UniqueFd exe(::open(link.c_str(), O_PATH | O_CLOEXEC));
  auto facts =
      exe.valid() ? os::StatFd(exe.get()) : hashdb::Result<FileFacts>(hashdb::ErrnoError(link));
  if (!facts.ok()) return info;
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
    const std::uint64_t dev = facts->dev;
    Enqueue(*facts, std::move(exe));
    // Unknown until hashed where lockd checks execs; elsewhere a name decides (see above).
    if (exec_checked_ && !exec_checked_(dev)) info.interpreter = Tristate::kNo;
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
    if (p.exe == opener.exe_id && p.exe_path == opener.exe &&
        os::ProcessImageAlive(p.environ.get())) {
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
  Process p;
  auto dir = os::OpenProcessDir(pid, proc_root_);
  if (!dir.ok()) return nullptr;
  p.dir = std::move(*dir);
  // The environ fd first: it pins the address space both lists are then read from, so a
  // later exec shows as a dead image even if the exec happened between the two reads.
  auto env_fd = os::OpenEnvironment(p.dir.get());
  if (!env_fd.ok()) return nullptr;
  p.environ = std::move(*env_fd);
  auto argv = os::ReadProcessList(p.dir.get(), "cmdline");
  auto env = os::ReadProcessList(p.dir.get(), "environ");
  ++proc_reads_;
  if (!argv.ok() || !env.ok()) return nullptr;
  p.exe = opener.exe_id;
  p.exe_path = opener.exe;
  const InterpreterFamily family =
      FamilyOf(Basename(opener.exe), argv->empty() ? std::string_view() : (*argv)[0]);
  ScriptCandidates script = ScriptArguments(family, *argv);
  for (std::size_t i = 0; i < script.paths.size(); ++i) {
    p.candidates.push_back({script.paths[i], script.search_path && i == 0, {}});
  }
  for (std::string& f : StartupFiles(family, *env))
    p.candidates.push_back({std::move(f), false, {}});
  for (const std::string& e : *env) {
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
    os::Resolved r = os::ResolveForProcess(p->dir.get(), c.path);
    if (r.lookup == os::Lookup::kAbsent && c.search_path) {
      r = os::ResolveInSearchPath(p->dir.get(), c.path, p->path_var);
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

void ScriptCoverage::OnExec(pid_t pid, int fd, const FileFacts& facts, bool untrusted_filesystem) {
  processes_.erase(pid);
  if (!facts.regular()) return;
  {
    std::lock_guard lock(mu_);
    if (digests_.count(KeyOf(facts)) != 0 || queued_.count(KeyOf(facts)) != 0) return;
  }
  if (!untrusted_filesystem && facts.size <= kSyncHashLimit) {
    HashAndStore(fd, facts);
    return;
  }
  hashdb::UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (copy.valid()) Enqueue(facts, std::move(copy));
}

void ScriptCoverage::HashAndStore(int fd, const FileFacts& facts) {
  std::optional<hashdb::Digest> digest;
  auto before = os::StatFd(fd);
  if (before.ok() && before->SameVersion(facts)) {
    auto d = hashdb::Sha256File(fd, before->size);
    auto after = os::StatFd(fd);
    if (d.ok() && after.ok() && after->SameVersion(facts)) digest = *d;
  }
  if (!digest) return;
  std::lock_guard lock(mu_);
  if (digests_.size() >= kMaxDigests) digests_.clear();
  digests_[KeyOf(facts)] = *digest;
}

void ScriptCoverage::Enqueue(const FileFacts& facts, hashdb::UniqueFd fd) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued || !queued_.emplace(KeyOf(facts), true).second) return;
    queue_.emplace_back(facts, std::move(fd));
  }
  cv_.notify_one();
}

void ScriptCoverage::HashPending() {
  for (;;) {
    std::pair<FileFacts, hashdb::UniqueFd> job;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const FileFacts& facts = job.first;
    hashdb::UniqueFd fd = std::move(job.second);
    // An O_PATH descriptor (an executable met at an open, not at its exec) is reopened for
    // reading here, off the event loop thread: that open is lockd's own and the loop answers it.
    if ((::fcntl(fd.get(), F_GETFL) & O_PATH) != 0) {
      const std::string self = "/proc/self/fd/" + std::to_string(fd.get());
      fd = hashdb::UniqueFd(::open(self.c_str(), O_RDONLY | O_CLOEXEC));
    }
    if (fd.valid()) HashAndStore(fd.get(), facts);
    std::lock_guard lock(mu_);
    queued_.erase(KeyOf(facts));
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
