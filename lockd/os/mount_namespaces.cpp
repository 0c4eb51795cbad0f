#include "lockd/os/mount_namespaces.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "lockd/os/mount_object.h"

namespace lockd::os {

namespace {
// include/uapi/linux/nsfs.h (Linux 6.11); Debian 12's headers lack it.
constexpr unsigned long kNsGetMntnsId = _IOR(0xb7, 0x5, std::uint64_t);
}  // namespace

std::vector<MountNamespace> ListMountNamespaces(const std::string& proc_root) {
  std::vector<MountNamespace> out;
  struct stat self {};
  if (::stat((proc_root + "/self/ns/mnt").c_str(), &self) != 0) return out;
  DIR* dir = ::opendir(proc_root.c_str());
  if (dir == nullptr) return out;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::vector<pid_t>> by_ns;
  while (dirent* e = ::readdir(dir)) {
    const char* name = e->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    char* end = nullptr;
    const long pid = std::strtol(name, &end, 10);
    if (end == nullptr || *end != '\0' || pid <= 0) continue;
    struct stat st {};
    if (::stat((proc_root + "/" + name + "/ns/mnt").c_str(), &st) != 0) continue;
    by_ns[{st.st_dev, st.st_ino}].push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  for (auto& [key, pids] : by_ns) {
    std::sort(pids.begin(), pids.end());
    MountNamespace ns;
    ns.ns_ino = key.second;
    ns.own = key.first == self.st_dev && key.second == self.st_ino;
    ns.pids = std::move(pids);
    out.push_back(std::move(ns));
  }
  return out;
}

std::uint64_t MountNamespaceId(pid_t pid) {
  auto fd = OpenMountNamespace(pid);
  if (!fd.ok()) return 0;
  std::uint64_t id = 0;
  if (::ioctl(fd->get(), kNsGetMntnsId, &id) != 0) return 0;
  return id;
}

hashdb::Result<hashdb::UniqueFd> OpenMountNamespace(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/mnt";
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  return fd;
}

std::vector<pid_t> PidsWithDistinctRoots(const std::vector<pid_t>& pids) {
  std::vector<pid_t> out;
  std::set<std::tuple<dev_t, std::uint64_t, int>> seen;
  std::vector<pid_t> sorted = pids;
  std::sort(sorted.begin(), sorted.end());
  for (pid_t pid : sorted) {
    auto id = IdentifyPath("/proc/" + std::to_string(pid) + "/root");
    if (!id.ok()) continue;  // exited, or a kernel thread
    if (seen.insert({id->dev, id->ino, id->mount_id}).second) out.push_back(pid);
  }
  return out;
}

}  // namespace lockd::os
