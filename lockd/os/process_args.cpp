#include "lockd/os/process_args.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "lockd/script_arguments.h"

namespace lockd::os {

namespace {

constexpr std::size_t kMaxListBytes = 16u << 20;

int OpenAt2(int dir, const char* path, std::uint64_t resolve) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = resolve;
  for (;;) {
    const long fd = ::syscall(SYS_openat2, dir, path, &how, sizeof(how));
    if (fd >= 0 || errno != EINTR) return static_cast<int>(fd);
  }
}

Resolved ResolveFrom(int dir, const std::string& path, std::uint64_t resolve) {
  Resolved r;
  if (path.empty() || path.find('\0') != std::string::npos) return r;
  hashdb::UniqueFd fd(OpenAt2(dir, path.c_str(), resolve | RESOLVE_CACHED));
  if (!fd.valid()) {
    r.lookup = errno == EAGAIN ? Lookup::kNotCached : Lookup::kAbsent;
    return r;
  }
  // The attributes the kernel has cached (AT_STATX_DONT_SYNC): a FUSE or network filesystem
  // would otherwise ask its server, and this runs on the event loop thread. dev and ino never
  // change for an inode, so cached ones are exact.
  struct statx stx {};
  if (::statx(fd.get(), "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &stx) != 0) return r;
  r.lookup = Lookup::kFound;
  r.id = FileId{static_cast<std::uint64_t>(makedev(stx.stx_dev_major, stx.stx_dev_minor)),
                static_cast<std::uint64_t>(stx.stx_ino)};
  return r;
}

}  // namespace

hashdb::Result<hashdb::UniqueFd> OpenProcessDir(pid_t pid, const std::string& proc_root) {
  const std::string path = proc_root + "/" + std::to_string(pid);
  hashdb::UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  return fd;
}

hashdb::Result<std::vector<std::string>> ReadProcessList(int process_dir, const char* name) {
  hashdb::UniqueFd fd(::openat(process_dir, name, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError(std::string("open /proc/<pid>/") + name);
  std::string bytes;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError(std::string("read /proc/<pid>/") + name);
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxListBytes) {
      return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                               std::string("/proc/<pid>/") + name + " is longer than 16 MiB");
    }
  }
  return SplitNulList(bytes);
}

hashdb::Result<hashdb::UniqueFd> OpenEnvironment(int process_dir) {
  hashdb::UniqueFd fd(::openat(process_dir, "environ", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open /proc/<pid>/environ");
  return fd;
}

hashdb::Result<ProcessImage> ReadProcessImage(pid_t pid, const std::string& proc_root) {
  ProcessImage image;
  auto dir = OpenProcessDir(pid, proc_root);
  if (!dir.ok()) return dir.error();
  image.dir = std::move(*dir);
  auto env_fd = OpenEnvironment(image.dir.get());
  if (!env_fd.ok()) return env_fd.error();
  image.environ = std::move(*env_fd);
  auto argv = ReadProcessList(image.dir.get(), "cmdline");
  if (!argv.ok()) return argv.error();
  auto env = ReadProcessList(image.dir.get(), "environ");
  if (!env.ok()) return env.error();
  image.argv = std::move(*argv);
  image.env = std::move(*env);
  return image;
}

bool ProcessImageAlive(int environ_fd) {
  char c = 0;
  for (;;) {
    const ssize_t n = ::pread(environ_fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    return n == 1;
  }
}

Resolved ResolveForProcess(int process_dir, const std::string& path) {
  if (path.empty()) return {};
  const bool absolute = path[0] == '/';
  // The magic links jump straight to the process's cwd and root: no lookup by name.
  hashdb::UniqueFd base(
      ::openat(process_dir, absolute ? "root" : "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!base.valid()) return {};
  return ResolveFrom(base.get(), path, absolute ? RESOLVE_IN_ROOT : 0);
}

Resolved ResolveInSearchPath(int process_dir, const std::string& name,
                             const std::string& path_var) {
  Resolved last;
  if (name.empty() || name.find('/') != std::string::npos) return last;
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = path_var.find(':', start);
    std::string dir = path_var.substr(start, colon == std::string::npos ? colon : colon - start);
    const std::string candidate = dir.empty() ? name : dir + "/" + name;
    Resolved r = ResolveForProcess(process_dir, candidate);
    // Stop at the first that exists (what the interpreter ran) or that we cannot tell.
    if (r.lookup != Lookup::kAbsent) return r;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return last;
}

}  // namespace lockd::os
