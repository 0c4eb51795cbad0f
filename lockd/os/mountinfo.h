#pragma once
// /proc/<pid>/mountinfo: parsing (pure, on text) and the classification of filesystem types.
// See proc(5). Fields: mount id, parent id, major:minor, root, mount point, mount options,
// optional fields..., "-", fs type, source, super options. Paths are octal-escaped by the
// kernel (\040 for space, \011, \012, \134); we unescape them.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"

namespace lockd::os {

struct MountEntry {
  int mount_id = 0;
  int parent_id = 0;
  unsigned major = 0;
  unsigned minor = 0;
  std::string root;         // the path inside the filesystem that is mounted here
  std::string mount_point;  // unescaped, as seen in the reader's mount namespace
  std::string options;      // per-mount options (ro, noexec, ...)
  std::string fs_type;      // e.g. "ext4", "tmpfs", "fuse.sshfs"
  std::string source;

  dev_t dev() const;
  bool read_only() const;  // "ro" among the per-mount options
};

// Parses the whole file. A malformed line is an error naming its line number: a parser that
// skipped lines could leave a filesystem unmarked without anyone noticing.
hashdb::Result<std::vector<MountEntry>> ParseMountInfo(std::string_view text);

enum class FsClass {
  kLocal,    // holds files that can be executed: marked (ext4, xfs, btrfs, tmpfs, vfat, ...)
  kPseudo,   // kernel interfaces with no executable content of their own (proc, sysfs, ...)
  kNetwork,  // content served by another machine (nfs, cifs, ...)
  kFuse,     // content served by a user-space process (fuse, fuse.*)
};

// Unknown types are kLocal: an unknown filesystem is marked rather than left open.
FsClass ClassifyFilesystem(std::string_view fs_type);
std::string_view FsClassName(FsClass fs_class);

// True if `path` is `dir` or below it (component-wise; "/a/bc" is not below "/a/b").
bool PathIsAtOrBelow(std::string_view path, std::string_view dir);

}  // namespace lockd::os
