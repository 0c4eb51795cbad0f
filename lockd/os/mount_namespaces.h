#pragma once
// The mount namespaces other than lockd's own, found through /proc/<pid>/ns/mnt, so that
// filesystems created inside them (`unshare -m` then `mount -t tmpfs ...`) can be marked too:
// fanotify has no mark that covers every superblock, and lockd's own mount table does not
// show superblocks mounted only in another namespace.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lockd::os {

struct OtherMountNamespace {
  std::uint64_t ns_ino = 0;  // the namespace's nsfs inode
  pid_t pid = 0;             // one process in it (the lowest pid seen)
};

// One pass over <proc_root>: every mount namespace some process is in, except the caller's.
// Best effort: processes that exit during the pass are skipped.
std::vector<OtherMountNamespace> ListOtherMountNamespaces(const std::string& proc_root = "/proc");

}  // namespace lockd::os
