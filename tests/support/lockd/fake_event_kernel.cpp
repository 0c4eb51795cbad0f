#include "tests/support/lockd/fake_event_kernel.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "lockd/os/file_probe.h"
#include "lockd/os/open_probe.h"
#include "lockd/os/process_info.h"

namespace testsupport {

lockd::os::FanotifyEvent FakeEventKernel::Event(std::uint64_t mask, pid_t pid,
                                                const std::string& path) {
  lockd::os::FanotifyEvent ev;
  ev.mask = mask;
  ev.pid = pid;
  ev.fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return ev;
}

void FakeEventKernel::Queue(std::uint64_t mask, pid_t pid, const std::string& path) {
  auto ev = Event(mask, pid, path);
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(ev));
}

void FakeEventKernel::QueueUnopenable(std::uint64_t mask, pid_t pid, int error) {
  lockd::os::FanotifyEvent ev;
  ev.mask = mask;
  ev.pid = pid;
  ev.open_error = error;
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(ev));
}

void FakeEventKernel::QueueOverflow() {
  lockd::os::FanotifyEvent ev;
  ev.mask = FAN_Q_OVERFLOW;
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(ev));
}

void FakeEventKernel::OnRead(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  on_read_ = std::move(hook);
}

void FakeEventKernel::SetBatchSize(std::size_t n) {
  std::lock_guard lock(mu_);
  batch_size_ = n;
}

void FakeEventKernel::SetWriters(const std::string& path, lockd::WriterState state) {
  std::lock_guard lock(mu_);
  writers_[path] = state;
}

void FakeEventKernel::SetFacts(const std::string& path, lockd::FileFacts facts) {
  std::lock_guard lock(mu_);
  facts_[path] = facts;
}

void FakeEventKernel::SetProcess(pid_t pid, const std::string& exe, long uid) {
  std::lock_guard lock(mu_);
  exe_[pid] = exe;
  uid_[pid] = uid;
}

void FakeEventKernel::SetExecutableFacts(pid_t pid, lockd::FileFacts facts) {
  std::lock_guard lock(mu_);
  exe_facts_[pid] = facts;
}

std::vector<FakeEventKernel::Answer> FakeEventKernel::answers() const {
  std::lock_guard lock(mu_);
  return answers_;
}

bool FakeEventKernel::WaitForAnswers(std::size_t n, int timeout_ms) const {
  std::unique_lock lock(mu_);
  return answered_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return answers_.size() >= n; });
}

std::size_t FakeEventKernel::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

std::size_t FakeEventKernel::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

hashdb::Result<std::vector<lockd::os::FanotifyEvent>> FakeEventKernel::ReadEvents(
    bool* maybe_more) {
  std::function<void()> hook;
  {
    std::lock_guard lock(mu_);
    ++reads_;
    hook = on_read_;
  }
  if (hook) hook();
  std::lock_guard lock(mu_);
  std::vector<lockd::os::FanotifyEvent> out;
  while (!queue_.empty() && out.size() < batch_size_) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (maybe_more != nullptr) *maybe_more = !queue_.empty();
  return out;
}

hashdb::Status FakeEventKernel::Respond(int event_fd, bool allow) {
  const std::string path = lockd::os::FdPath(event_fd);
  {
    std::lock_guard lock(mu_);
    answers_.push_back({path, allow});
  }
  answered_.notify_all();
  return {};
}

hashdb::Status FakeEventKernel::IgnoreFile(int event_fd, bool opens_too) {
  const std::string path = lockd::os::FdPath(event_fd);
  std::lock_guard lock(mu_);
  if (refuse_ignore_) return hashdb::MakeError(hashdb::ErrorCode::kIo, "ignore mark refused");
  ignored_.push_back(path);
  if (opens_too) ignored_with_opens_.push_back(path);
  return {};
}

hashdb::Status FakeEventKernel::UnignoreFile(int event_fd) {
  const std::string path = lockd::os::FdPath(event_fd);
  std::lock_guard lock(mu_);
  std::erase(ignored_, path);
  std::erase(ignored_with_opens_, path);
  return {};
}

std::vector<std::string> FakeEventKernel::ignored_with_opens() const {
  std::lock_guard lock(mu_);
  return ignored_with_opens_;
}

hashdb::Status FakeEventKernel::ForgetIgnoredFiles() {
  std::lock_guard lock(mu_);
  if (refuse_flush_) return hashdb::MakeError(hashdb::ErrorCode::kIo, "flush refused");
  ignored_.clear();
  ignored_with_opens_.clear();
  ++forgets_;
  return {};
}

std::vector<std::string> FakeEventKernel::ignored() const {
  std::lock_guard lock(mu_);
  return ignored_;
}

std::size_t FakeEventKernel::forgets() const {
  std::lock_guard lock(mu_);
  return forgets_;
}

void FakeEventKernel::RefuseIgnoreMarks(bool refuse) {
  std::lock_guard lock(mu_);
  refuse_ignore_ = refuse;
}

void FakeEventKernel::RefuseFlush(bool refuse) {
  std::lock_guard lock(mu_);
  refuse_flush_ = refuse;
}

hashdb::Result<lockd::FileFacts> FakeEventKernel::Stat(int fd) {
  const std::string path = lockd::os::FdPath(fd);
  {
    std::lock_guard lock(mu_);
    if (auto it = facts_.find(path); it != facts_.end()) return it->second;
  }
  return lockd::os::StatFd(fd);
}

lockd::WriterState FakeEventKernel::ProbeWriters(int fd) {
  const std::string path = lockd::os::FdPath(fd);
  std::lock_guard lock(mu_);
  auto it = writers_.find(path);
  return it == writers_.end() ? lockd::WriterState::kNone : it->second;
}

hashdb::Result<std::size_t> FakeEventKernel::ReadHead(int fd, std::span<std::uint8_t> buf) {
  return lockd::os::ReadHead(fd, buf);
}

std::string FakeEventKernel::FdPath(int fd) { return lockd::os::FdPath(fd); }

lockd::os::ProcessFacts FakeEventKernel::Process(pid_t pid) {
  std::lock_guard lock(mu_);
  lockd::os::ProcessFacts f;
  f.pid = pid;
  if (auto it = exe_.find(pid); it != exe_.end()) f.exe = it->second;
  if (auto it = uid_.find(pid); it != uid_.end()) f.uid = it->second;
  return f;
}

std::string FakeEventKernel::ExecutablePath(pid_t pid) {
  std::lock_guard lock(mu_);
  auto it = exe_.find(pid);
  return it == exe_.end() ? std::string() : it->second;
}

std::optional<lockd::FileFacts> FakeEventKernel::ExecutableFacts(pid_t pid) {
  std::string exe;
  {
    std::lock_guard lock(mu_);
    if (auto it = exe_facts_.find(pid); it != exe_facts_.end()) return it->second;
    auto it = exe_.find(pid);
    if (it == exe_.end()) return std::nullopt;
    exe = it->second;
  }
  struct stat st {};
  if (::stat(exe.c_str(), &st) != 0) return std::nullopt;
  return lockd::FileFacts::FromStat(st);
}

void FakeEventKernel::SetProcRoot(const std::string& root) {
  std::lock_guard lock(mu_);
  proc_root_ = root;
}

std::size_t FakeEventKernel::executable_opens() const {
  std::lock_guard lock(mu_);
  return executable_opens_;
}

hashdb::Result<hashdb::UniqueFd> FakeEventKernel::OpenExecutable(pid_t pid) {
  std::string exe;
  {
    std::lock_guard lock(mu_);
    ++executable_opens_;
    auto it = exe_.find(pid);
    if (it == exe_.end()) return hashdb::MakeError(hashdb::ErrorCode::kNotFound, "no process");
    exe = it->second;
  }
  hashdb::UniqueFd fd(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + exe);
  return fd;
}

hashdb::Result<lockd::os::ProcessImage> FakeEventKernel::ReadProcessImage(pid_t pid) {
  std::string root;
  {
    std::lock_guard lock(mu_);
    root = proc_root_;
  }
  if (root.empty()) return hashdb::MakeError(hashdb::ErrorCode::kNotFound, "no process");
  return lockd::os::ReadProcessImage(pid, root);
}

bool FakeEventKernel::ImageAlive(const lockd::os::ProcessImage& image) {
  return lockd::os::ProcessImageAlive(image.environ.get());
}

lockd::os::Resolved FakeEventKernel::ResolveForProcess(const lockd::os::ProcessImage& image,
                                                       const std::string& path) {
  return lockd::os::ResolveForProcess(image.dir.get(), path);
}

lockd::os::Resolved FakeEventKernel::ResolveInSearchPath(const lockd::os::ProcessImage& image,
                                                         const std::string& name,
                                                         const std::string& path_var) {
  return lockd::os::ResolveInSearchPath(image.dir.get(), name, path_var);
}

}  // namespace testsupport
