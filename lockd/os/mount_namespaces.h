#pragma once
// The mount namespaces processes are in, found through /proc/<pid>/ns/mnt, so that filesystems
// mounted inside them (`unshare -m` then `mount -t tmpfs ...`) can be marked too: fanotify has
// no mark that covers every superblock, and lockd's own mount table does not show superblocks
// mounted only in another namespace.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

struct MountNamespace {
  std::uint64_t ns_ino = 0;  // the namespace's nsfs inode (reused after the namespace dies)
  bool own = false;          // the caller's namespace
  // Every process seen in it, ascending. Any of them may be chrooted (and so see only part of
  // the namespace through /proc/<pid>/mountinfo), so none alone speaks for the namespace.
  std::vector<pid_t> pids;
};

// One pass over <proc_root>: every mount namespace some process is in, including the caller's
// (own = true). Best effort: processes that exit during the pass are skipped.
std::vector<MountNamespace> ListMountNamespaces(const std::string& proc_root = "/proc");

// The namespace's 64-bit id (NS_GET_MNTNS_ID, Linux 6.11+: never reused, the key listmount(2)
// and statmount(2) take), read through /proc/<pid>/ns/mnt; 0 when the kernel lacks it or the
// process is gone.
std::uint64_t MountNamespaceId(pid_t pid);

// /proc/<pid>/ns/mnt opened (for FAN_MARK_MNTNS).
hashdb::Result<hashdb::UniqueFd> OpenMountNamespace(pid_t pid);

// The processes of `pids` whose roots differ (one per distinct root: device, inode and mount of
// /proc/<pid>/root), first the lowest pid of each root. Each root gives its own view of the
// namespace's mount table.
std::vector<pid_t> PidsWithDistinctRoots(const std::vector<pid_t>& pids);

}  // namespace lockd::os
