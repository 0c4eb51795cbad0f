#include "lockd/os/mount_namespaces.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <map>

namespace lockd::os {

std::vector<OtherMountNamespace> ListOtherMountNamespaces(const std::string& proc_root) {
  std::vector<OtherMountNamespace> out;
  struct stat self {};
  if (::stat((proc_root + "/self/ns/mnt").c_str(), &self) != 0) return out;
  DIR* dir = ::opendir(proc_root.c_str());
  if (dir == nullptr) return out;
  std::map<std::uint64_t, pid_t> seen;
  while (dirent* e = ::readdir(dir)) {
    const char* name = e->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    char* end = nullptr;
    const long pid = std::strtol(name, &end, 10);
    if (end == nullptr || *end != '\0' || pid <= 0) continue;
    struct stat st {};
    if (::stat((proc_root + "/" + name + "/ns/mnt").c_str(), &st) != 0) continue;
    if (st.st_ino == self.st_ino && st.st_dev == self.st_dev) continue;
    auto [it, inserted] = seen.try_emplace(st.st_ino, static_cast<pid_t>(pid));
    if (!inserted && it->second > pid) it->second = static_cast<pid_t>(pid);
  }
  ::closedir(dir);
  for (const auto& [ino, pid] : seen) out.push_back({ino, pid});
  return out;
}

}  // namespace lockd::os
