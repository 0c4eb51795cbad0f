#include "hashdb/scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "hashdb/file_hasher.h"
#include "hashdb/format.h"
#include "hashdb/fs_types.h"
#include "hashdb/scan_count.h"
#include "hashdb/unique_fd.h"

namespace hashdb {

namespace {

// Files handed to a worker at once: big enough to keep queue locking negligible next to the
// open/fstat/hash of each file, small enough that the last directories still spread over all
// threads.
constexpr std::size_t kFileBatch = 32;

struct Dir {
  UniqueFd fd;
  std::string path;  // on-disk path
  dev_t dev = 0;
  dev_t root_dev = 0;
};
using DirPtr = std::shared_ptr<const Dir>;

struct Name {
  std::string name;
  unsigned char type;  // DT_DIR or DT_REG
};

struct WorkItem {
  DirPtr parent;
  std::vector<Name> names;  // one DT_DIR name, or up to kFileBatch DT_REG names
};

// LIFO queue (depth-first, which bounds the number of open directory fds to about depth x
// threads) that knows when all work, including work still being produced, is done.
class WorkQueue {
 public:
  void Push(WorkItem item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
      ++pending_;
    }
    cv_.notify_one();
  }
  // Blocks for the next item; false when every pushed item has been finished.
  bool Pop(WorkItem& out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !items_.empty() || pending_ == 0; });
    if (items_.empty()) return false;
    out = std::move(items_.back());
    items_.pop_back();
    return true;
  }
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WorkItem> items_;
  std::size_t pending_ = 0;
};

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out = dir;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

// Absolute, without empty or "." components or a trailing slash; ".." is refused.
Result<std::string> NormalizePath(const std::string& path, const char* what) {
  if (path.empty()) return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  std::string in = path;
  if (in[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError("getcwd");
    in = std::string(cwd) + "/" + in;
  }
  std::string out;
  std::size_t pos = 0;
  while (pos <= in.size()) {
    std::size_t next = in.find('/', pos);
    if (next == std::string::npos) next = in.size();
    std::string_view comp(in.data() + pos, next - pos);
    if (comp == "..") {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(what) + " " + path + ": '..' is not allowed");
    }
    if (!comp.empty() && comp != ".") {
      out.push_back('/');
      out.append(comp);
    }
    pos = next + 1;
  }
  return out.empty() ? std::string("/") : out;
}

class ScanRun {
 public:
  ScanRun(const ScanOptions& options, std::string strip)
      : opt_(options), strip_(std::move(strip)) {}

  // Opens a root (failure fails the scan) and queues it; a root inside an excluded tree is
  // counted as excluded and not scanned.
  Status AddRoot(const std::string& root) {
    if (PathExcluded(Recorded(root), opt_.excludes)) {
      excluded_.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
    UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
      if (errno == ENOTDIR || errno == ELOOP) {
        return MakeError(ErrorCode::kInvalidArgument,
                         root + ": not a directory (a root must be a directory, not a symlink)");
      }
      return ErrnoError(root + ": open root");
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ErrnoError(root + ": fstat");
    auto dir = std::make_shared<Dir>();
    dir->fd = std::move(fd);
    dir->path = root;
    dir->dev = st.st_dev;
    dir->root_dev = st.st_dev;
    if (!FilesystemAllowed(*dir)) return {};
    roots_.push_back(std::move(dir));
    return {};
  }

  void set_files_total(std::uint64_t n) { files_total_ = n; }

  ScanResult Run() {
    const auto start = std::chrono::steady_clock::now();
    start_ = start;
    unsigned threads = opt_.threads != 0 ? opt_.threads : std::thread::hardware_concurrency();
    threads = std::max(1u, threads);
    per_thread_.resize(threads);
    for (DirPtr& root : roots_) {
      directories_.fetch_add(1, std::memory_order_relaxed);
      queue_.Push(WorkItem{std::move(root), {}});
    }
    std::thread progress_thread;
    if (opt_.progress || opt_.reporter != nullptr)
      progress_thread = std::thread([this] { ProgressLoop(); });
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads; ++i) workers.emplace_back([this, i] { Work(i); });
    for (std::thread& t : workers) t.join();
    if (progress_thread.joinable()) {
      {
        std::lock_guard<std::mutex> lock(progress_mu_);
        done_ = true;
      }
      progress_cv_.notify_all();
      progress_thread.join();
    }

    ScanResult result;
    ScanReport& r = result.report;
    for (auto& entries : per_thread_) {
      result.entries.insert(result.entries.end(), std::make_move_iterator(entries.begin()),
                            std::make_move_iterator(entries.end()));
    }
    std::sort(result.entries.begin(), result.entries.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    result.entries.erase(
        std::unique(result.entries.begin(), result.entries.end(),
                    [](const FileEntry& a, const FileEntry& b) { return a.path == b.path; }),
        result.entries.end());
    r.directories = directories_.load();
    r.files_examined = examined_.load();
    r.files_recorded = result.entries.size();
    for (const FileEntry& e : result.entries) r.bytes_hashed += e.size;
    r.excluded = excluded_.load();
    r.not_regular = not_regular_.load();
    r.not_code = not_code_.load();
    r.retries = retries_.load();
    std::sort(skipped_.begin(), skipped_.end(),
              [](const SkippedPath& a, const SkippedPath& b) { return a.path < b.path; });
    r.skipped = std::move(skipped_);
    r.skipped_by_reason = skipped_by_reason_;
    for (std::uint64_t n : skipped_by_reason_) r.skipped_total += n;
    r.threads = threads;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (opt_.reporter != nullptr) {
      ScanProgress p;
      p.directories = r.directories;
      p.files_examined = r.files_examined;
      p.files_recorded = r.files_recorded;
      p.bytes_hashed = r.bytes_hashed;
      p.skipped = r.skipped_total;
      p.files_total = files_total_;
      p.seconds = r.seconds;
      opt_.reporter->Finished(p);
    }
    return result;
  }

 private:
  std::string Recorded(const std::string& disk_path) const {
    if (strip_.empty()) return disk_path;
    std::string out = disk_path.substr(strip_.size());
    return out.empty() ? std::string("/") : out;
  }

  void Skip(const std::string& disk_path, SkipReason reason, std::string detail) {
    std::lock_guard<std::mutex> lock(skip_mu_);
    ++skipped_by_reason_[static_cast<std::size_t>(reason)];
    if (skipped_.size() < opt_.max_skipped_listed) {
      std::string recorded = Recorded(disk_path);
      if (recorded.size() > format::kMaxPathLength) recorded = recorded.substr(0, 256) + "...";
      skipped_.push_back(SkippedPath{std::move(recorded), reason, std::move(detail)});
    }
  }

  // For a directory on a different filesystem than its parent (or a root): may we walk it?
  bool FilesystemAllowed(const Dir& dir) {
    struct statfs sfs;
    if (::fstatfs(dir.fd.get(), &sfs) != 0) {
      Skip(dir.path, SkipReason::kDirectoryFailed, std::string("fstatfs: ") + std::strerror(errno));
      return false;
    }
    FsClass fs_class = ClassifyFsType(sfs.f_type);
    if (fs_class == FsClass::kLocal) return true;
    Skip(dir.path,
         fs_class == FsClass::kPseudo ? SkipReason::kPseudoFilesystem
                                      : SkipReason::kNetworkFilesystem,
         "fs type " + std::string(FsTypeName(sfs.f_type)));
    return false;
  }

  // The entry itself only: its directories were checked when they were entered (and the root
  // by AddRoot), which makes every pattern a tree (PathExcluded).
  bool Excluded(const std::string& disk_path) const {
    if (opt_.excludes.empty()) return false;
    const std::string recorded = Recorded(disk_path);
    for (const std::string& pattern : opt_.excludes) {
      if (::fnmatch(pattern.c_str(), recorded.c_str(), 0) == 0) return true;
    }
    return false;
  }

  void Work(unsigned index) {
    WorkItem item;
    while (queue_.Pop(item)) {
      if (item.names.empty()) {
        List(item.parent);
      } else if (item.names[0].type == DT_DIR) {
        OpenAndList(item.parent, item.names[0].name);
      } else {
        for (const Name& n : item.names) HashFile(*item.parent, n.name, per_thread_[index]);
      }
      item = WorkItem{};
      queue_.Finish();
    }
  }

  void OpenAndList(const DirPtr& parent, const std::string& name) {
    const std::string path = JoinPath(parent->path, name);
    UniqueFd fd(::openat(parent->fd.get(), name.c_str(),
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
      const int err = errno;
      if (err == ENOENT) {
        Skip(path, SkipReason::kVanished, "");
      } else if (err == ENOTDIR || err == ELOOP) {
        Skip(path, SkipReason::kTypeChanged, "no longer a directory");
      } else {
        Skip(path, SkipReason::kDirectoryFailed, std::strerror(err));
      }
      return;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
      Skip(path, SkipReason::kDirectoryFailed, std::string("fstat: ") + std::strerror(errno));
      return;
    }
    auto dir = std::make_shared<Dir>();
    dir->fd = std::move(fd);
    dir->path = path;
    dir->dev = st.st_dev;
    dir->root_dev = parent->root_dev;
    if (st.st_dev != parent->dev) {
      if (opt_.one_file_system) {
        struct statfs sfs;
        std::string type = ::fstatfs(dir->fd.get(), &sfs) == 0 ? std::string(FsTypeName(sfs.f_type))
                                                               : std::string();
        Skip(path, SkipReason::kOtherFilesystem,
             "mount point not crossed" + (type.empty() ? "" : " (fs type " + type + ")"));
        return;
      }
      if (!FilesystemAllowed(*dir)) return;
    }
    directories_.fetch_add(1, std::memory_order_relaxed);
    List(dir);
  }

  void List(const DirPtr& dir) {
    int list_fd = ::fcntl(dir->fd.get(), F_DUPFD_CLOEXEC, 0);
    DIR* d = list_fd >= 0 ? ::fdopendir(list_fd) : nullptr;
    if (d == nullptr) {
      Skip(dir->path, SkipReason::kDirectoryFailed, std::strerror(errno));
      if (list_fd >= 0) ::close(list_fd);
      return;
    }
    std::vector<Name> files;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      unsigned char type = e->d_type;
      const std::string path = JoinPath(dir->path, name);
      if (Recorded(path).size() > format::kMaxPathLength) {
        Skip(path, SkipReason::kPathTooLong, std::to_string(Recorded(path).size()) + " bytes");
        continue;
      }
      if (Excluded(path)) {
        excluded_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::fstatat(dir->fd.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
          Skip(path, errno == ENOENT ? SkipReason::kVanished : SkipReason::kOpenFailed,
               std::string("fstatat: ") + std::strerror(errno));
          continue;
        }
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      }
      if (type == DT_DIR) {
        queue_.Push(WorkItem{dir, {Name{std::string(name), DT_DIR}}});
      } else if (type == DT_REG) {
        files.push_back(Name{std::string(name), DT_REG});
        if (files.size() == kFileBatch) queue_.Push(WorkItem{dir, std::exchange(files, {})});
      } else {
        not_regular_.fetch_add(1, std::memory_order_relaxed);
      }
      errno = 0;
    }
    if (errno != 0) Skip(dir->path, SkipReason::kDirectoryFailed, std::strerror(errno));
    ::closedir(d);
    if (!files.empty()) queue_.Push(WorkItem{dir, std::move(files)});
  }

  void HashFile(const Dir& dir, const std::string& name, std::vector<FileEntry>& out) {
    const std::string path = JoinPath(dir.path, name);
    HashFileOptions options;
    options.max_attempts = opt_.max_attempts;
    if (opt_.one_file_system) options.device = dir.root_dev;
    options.listed_regular = true;  // List() saw DT_REG
    HashedFile h = HashFileAt(dir.fd.get(), name, name, options);
    if (h.attempts > 1) {
      retries_.fetch_add(static_cast<std::uint64_t>(h.attempts - 1), std::memory_order_relaxed);
    }
    switch (h.outcome) {
      case HashOutcome::kVanished:
        Skip(path, SkipReason::kVanished, "");
        return;
      case HashOutcome::kSymlink:
        Skip(path, SkipReason::kTypeChanged, "replaced by a symlink");
        return;
      case HashOutcome::kOpenFailed:
        Skip(path, SkipReason::kOpenFailed,
             std::string(h.failed_call) == "open"
                 ? std::string(std::strerror(h.sys_errno))
                 : std::string(h.failed_call) + ": " + std::strerror(h.sys_errno));
        return;
      case HashOutcome::kNotRegular:
        Skip(path, SkipReason::kTypeChanged, "no longer a regular file");
        return;
      case HashOutcome::kOtherFilesystem:
        Skip(path, SkipReason::kOtherFilesystem, "file mounted from another filesystem");
        return;
      default:
        break;
    }
    examined_.fetch_add(1, std::memory_order_relaxed);
    switch (h.outcome) {
      case HashOutcome::kNotCode:
        not_code_.fetch_add(1, std::memory_order_relaxed);
        return;
      case HashOutcome::kReadFailed:
        Skip(path, SkipReason::kReadFailed, h.error.message);
        return;
      case HashOutcome::kChanged:
        Skip(path, SkipReason::kChanged,
             std::string(h.writer_present ? "open for writing by another process"
                                          : "changed while being hashed") +
                 " (" + std::to_string(h.attempts) + " attempts)");
        return;
      case HashOutcome::kHashed:
        bytes_.fetch_add(h.entry.size, std::memory_order_relaxed);
        recorded_.fetch_add(1, std::memory_order_relaxed);
        h.entry.path = Recorded(path);
        out.push_back(std::move(h.entry));
        return;
      default:
        return;  // handled above
    }
  }

  void ProgressLoop() {
    std::unique_lock<std::mutex> lock(progress_mu_);
    const auto interval = std::chrono::milliseconds(std::max(10, opt_.progress_interval_ms));
    while (!progress_cv_.wait_for(lock, interval, [this] { return done_; })) {
      ScanProgress p;
      p.directories = directories_.load(std::memory_order_relaxed);
      p.files_examined = examined_.load(std::memory_order_relaxed);
      p.files_recorded = recorded_.load(std::memory_order_relaxed);
      p.bytes_hashed = bytes_.load(std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> skip_lock(skip_mu_);
        for (std::uint64_t n : skipped_by_reason_) p.skipped += n;
      }
      p.files_total = files_total_;
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      lock.unlock();
      if (opt_.progress) opt_.progress(p);
      if (opt_.reporter != nullptr) opt_.reporter->Progress(p);
      lock.lock();
    }
  }

  const ScanOptions& opt_;
  const std::string strip_;
  std::vector<DirPtr> roots_;
  WorkQueue queue_;
  std::vector<std::vector<FileEntry>> per_thread_;
  std::atomic<std::uint64_t> directories_{0}, examined_{0}, recorded_{0}, bytes_{0}, excluded_{0},
      not_regular_{0}, not_code_{0}, retries_{0};
  std::mutex skip_mu_;
  std::vector<SkippedPath> skipped_;
  std::array<std::uint64_t, kSkipReasonCount> skipped_by_reason_{};
  std::chrono::steady_clock::time_point start_;
  std::uint64_t files_total_ = 0;
  std::mutex progress_mu_;
  std::condition_variable progress_cv_;
  bool done_ = false;
};

}  // namespace

std::string_view SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kOpenFailed:
      return "open-failed";
    case SkipReason::kReadFailed:
      return "read-failed";
    case SkipReason::kChanged:
      return "changed";
    case SkipReason::kVanished:
      return "vanished";
    case SkipReason::kTypeChanged:
      return "type-changed";
    case SkipReason::kDirectoryFailed:
      return "directory-failed";
    case SkipReason::kOtherFilesystem:
      return "other-filesystem";
    case SkipReason::kPseudoFilesystem:
      return "pseudo-filesystem";
    case SkipReason::kNetworkFilesystem:
      return "network-filesystem";
    case SkipReason::kPathTooLong:
      return "path-too-long";
  }
  return "unknown";
}

bool PathExcluded(std::string_view path, const std::vector<std::string>& patterns) {
  for (std::string pattern : patterns) {
    while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
    if (pattern.empty()) continue;
    // The path and each leading directory: "/a", "/a/b", ..., "/a/b/c".
    for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
      const std::string prefix(path.substr(0, end));
      if (!prefix.empty() && ::fnmatch(pattern.c_str(), prefix.c_str(), 0) == 0) return true;
      if (end == std::string_view::npos) break;
    }
  }
  return false;
}

Result<ScanResult> Scan(const ScanOptions& options) {
  if (options.roots.empty()) return MakeError(ErrorCode::kInvalidArgument, "no root to scan");
  if (options.max_attempts < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "max_attempts must be at least 1");
  }
  std::string strip;
  if (!options.strip_prefix.empty()) {
    Result<std::string> norm = NormalizePath(options.strip_prefix, "strip prefix");
    if (!norm.ok()) return norm.error();
    if (*norm != "/") strip = *norm;
  }
  ScanRun run(options, strip);
  std::vector<std::string> roots;
  for (const std::string& root : options.roots) {
    Result<std::string> norm = NormalizePath(root, "root");
    if (!norm.ok()) return norm.error();
    if (!strip.empty() && *norm != strip && !norm->starts_with(strip + "/")) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "root " + *norm + " is not under the strip prefix " + strip);
    }
    HASHDB_TRY(run.AddRoot(*norm));
    roots.push_back(*norm);
  }
  if (options.count_first) {
    CountOptions count;
    count.roots = std::move(roots);
    count.strip = strip;
    count.excludes = options.excludes;
    count.one_file_system = options.one_file_system;
    count.reporter = options.reporter;
    count.interval_ms = options.progress_interval_ms;
    run.set_files_total(CountScanFiles(count));
  }
  return run.Run();
}

}  // namespace hashdb
