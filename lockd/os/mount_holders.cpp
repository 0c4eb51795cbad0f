#include "lockd/os/mount_holders.h"

#include <dirent.h>

#include <cstdlib>
#include <map>

#include "lockd/os/mount_object.h"

namespace lockd::os {

namespace {

bool ParsePid(const char* name, long& pid) {
  if (name[0] < '1' || name[0] > '9') return false;
  char* end = nullptr;
  pid = std::strtol(name, &end, 10);
  return end != nullptr && *end == '\0' && pid > 0;
}

}  // namespace

std::vector<MountHolder> FindMountHolders(const std::set<int>& mount_ids, pid_t skip_pid,
                                          std::size_t max_entries) {
  std::vector<MountHolder> out;
  if (mount_ids.empty()) return out;
  std::map<int, int> found;  // mount id -> holders found
  std::size_t looked = 0;
  auto consider = [&](const std::string& path) {
    ++looked;
    auto id = IdentifyPath(path, /*want_unique=*/false);
    if (!id.ok() || mount_ids.count(id->mount_id) == 0) return;
    if (found[id->mount_id]++ >= 2) return;
    out.push_back({id->mount_id, path});
  };
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = ::readdir(proc)) {
    long pid = 0;
    if (!ParsePid(e->d_name, pid) || pid == skip_pid) continue;
    if (looked >= max_entries) break;
    const std::string base = std::string("/proc/") + e->d_name;
    for (const char* link : {"/cwd", "/root", "/exe"}) consider(base + link);
    DIR* fds = ::opendir((base + "/fd").c_str());
    if (fds == nullptr) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] < '0' || f->d_name[0] > '9') continue;
      if (looked >= max_entries) break;
      consider(base + "/fd/" + f->d_name);
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return out;
}

}  // namespace lockd::os
