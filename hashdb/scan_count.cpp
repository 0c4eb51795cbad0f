#include "hashdb/scan_count.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <string_view>

#include "hashdb/format.h"
#include "hashdb/fs_types.h"
#include "hashdb/unique_fd.h"

namespace hashdb {

namespace {

class Counter {
 public:
  explicit Counter(const CountOptions& options)
      : opt_(options),
        interval_(std::chrono::milliseconds(options.interval_ms > 10 ? options.interval_ms : 10)),
        next_report_(std::chrono::steady_clock::now() + interval_) {}

  void Root(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) return;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !LocalFilesystem(fd.get())) return;
    Walk(fd.get(), path, st.st_dev);
  }

  std::uint64_t files() const { return files_; }

 private:
  static bool LocalFilesystem(int fd) {
    struct statfs sfs;
    return ::fstatfs(fd, &sfs) == 0 && ClassifyFsType(sfs.f_type) == FsClass::kLocal;
  }

  std::string Recorded(const std::string& path) const {
    if (opt_.strip.empty()) return path;
    std::string out = path.substr(opt_.strip.size());
    return out.empty() ? std::string("/") : out;
  }

  bool Excluded(const std::string& recorded) const {
    for (const std::string& pattern : opt_.excludes) {
      if (::fnmatch(pattern.c_str(), recorded.c_str(), 0) == 0) return true;
    }
    return false;
  }

  void MaybeReport() {
    if (opt_.reporter == nullptr || (++ticks_ & 255) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_report_) return;
    next_report_ = now + interval_;
    opt_.reporter->Counted(files_, false);
  }

  // Lists dir_fd (which stays open while the subdirectories are walked: open descriptors are
  // bounded by the depth, not the width, of the tree).
  void Walk(int dir_fd, const std::string& path, dev_t dev) {
    const int list_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    DIR* d = list_fd >= 0 ? ::fdopendir(list_fd) : nullptr;
    if (d == nullptr) {
      if (list_fd >= 0) ::close(list_fd);
      return;
    }
    std::vector<std::string> subdirs;
    while (struct dirent* e = ::readdir(d)) {
      const std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      MaybeReport();
      std::string child = path;
      if (child.back() != '/') child.push_back('/');
      child.append(name);
      const std::string recorded = Recorded(child);
      if (recorded.size() > format::kMaxPathLength || Excluded(recorded)) continue;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      }
      if (type == DT_REG) {
        ++files_;
      } else if (type == DT_DIR) {
        subdirs.emplace_back(name);
      }
    }
    ::closedir(d);
    for (const std::string& name : subdirs) {
      UniqueFd fd(::openat(dir_fd, name.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
      if (!fd.valid()) continue;
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) continue;
      if (st.st_dev != dev && (opt_.one_file_system || !LocalFilesystem(fd.get()))) continue;
      std::string child = path;
      if (child.back() != '/') child.push_back('/');
      child.append(name);
      Walk(fd.get(), child, st.st_dev);
    }
  }

  const CountOptions& opt_;
  const std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_report_;
  std::uint64_t files_ = 0;
  std::uint64_t ticks_ = 0;
};

}  // namespace

std::uint64_t CountScanFiles(const CountOptions& options) {
  Counter counter(options);
  for (const std::string& root : options.roots) counter.Root(root);
  if (options.reporter != nullptr) options.reporter->Counted(counter.files(), true);
  return counter.files();
}

}  // namespace hashdb
