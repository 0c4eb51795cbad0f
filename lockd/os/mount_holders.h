#pragma once
// Finding a way into a mount that no path leads to any more: a mount covered by another one on
// the same mount point, or outside every process's root. Such a mount is not gone: a process
// whose working directory, root, executable or an open descriptor is on it can still run files
// from it (`mount tmpfs /x; cd /x; mount tmpfs /x; ./evil`). Its /proc/<pid>/{cwd,root,exe,
// fd/N} entries lead into it, and marking through one of them marks its superblock.

#include <sys/types.h>

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace lockd::os {

struct MountHolder {
  int mount_id = 0;  // the wanted mount it leads into
  std::string path;  // e.g. /proc/1234/cwd, /proc/1234/fd/7
};

// One pass over /proc: for each of `mount_ids` (mountinfo ids, which are system-wide), up to
// two paths that lead into it now. The caller must pin and check each path before using it
// (the process may move or close the descriptor at any time). Looks at most `max_entries`
// /proc entries in all, so that a machine with a million open descriptors bounds the cost.
// `skip_pid` (lockd itself) is not looked at.
std::vector<MountHolder> FindMountHolders(const std::set<int>& mount_ids, pid_t skip_pid,
                                          std::size_t max_entries = 200000);

}  // namespace lockd::os
