#pragma once
// Pinning the object a path leads to, so that what lockd checks is what it marks.
//
// Marking by path marks whatever the path resolves to at that instant: the top of a stack of
// mounts, or something else if the mount table changed since it was read. So lockd opens the
// path with O_PATH (no open event, no FUSE request, nothing read), asks statx which mount and
// device that object is on, and, only if that is the mount it wanted, marks through its own
// descriptor (/proc/self/fd/N): the mark lands exactly on the superblock that was checked,
// whatever happens to the path meanwhile.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

// statfs f_type of overlayfs (include/uapi/linux/magic.h).
inline constexpr std::uint64_t kOverlayfsMagic = 0x794c7630;

struct ObjectIdentity {
  dev_t dev = 0;  // st_dev
  std::uint64_t ino = 0;
  int mount_id = -1;            // mountinfo mount id (STATX_MNT_ID, Linux 5.8+); -1 unknown
  std::uint64_t unique_id = 0;  // STATX_MNT_ID_UNIQUE (Linux 6.8+); 0 unknown
  std::uint64_t fs_magic = 0;   // statfs f_type (only from PinPath)
  bool directory = false;
};

struct PinnedObject {
  hashdb::UniqueFd fd;  // O_PATH
  ObjectIdentity id;
  // A path that leads to exactly this object, for fanotify_mark: /proc/self/fd/<fd>.
  std::string MarkPath() const;
};

// Opens `path` with O_PATH (following links, no automount) and identifies what it leads to.
// statx is asked with AT_STATX_DONT_SYNC: a FUSE or network server is never consulted.
hashdb::Result<PinnedObject> PinPath(const std::string& path);

// The identity of what `path` leads to, without keeping it (statx only; fs_magic stays 0).
// want_unique = false saves the second statx when unique_id is not needed.
hashdb::Result<ObjectIdentity> IdentifyPath(const std::string& path, bool want_unique = true);

// The identity of an open file (for an event fd).
hashdb::Result<ObjectIdentity> IdentifyFd(int fd);

}  // namespace lockd::os
