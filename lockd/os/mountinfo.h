#pragma once
// /proc/<pid>/mountinfo: parsing (pure, on text, through util-linux's libmount) and the
// classification of filesystem types. See proc(5). Fields: mount id, parent id, major:minor,
// root, mount point, mount options, optional fields..., "-", fs type, source, super options.
// The kernel octal-escapes paths (\040 for space, \011, \012, \134); libmount unescapes them.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/result.h"

namespace lockd::os {

struct MountEntry {
  // The mountinfo mount id. The kernel allocates it from one system-wide pool, so at one
  // instant it names one mount in any namespace (statx STATX_MNT_ID returns it), but it is
  // reused after an unmount: never a key across time.
  int mount_id = 0;
  int parent_id = 0;
  // The 64-bit mount id that is never reused (statmount(2), STATX_MNT_ID_UNIQUE, Linux 6.8+);
  // 0 when the entry was read from mountinfo text, which does not show it.
  std::uint64_t unique_id = 0;
  unsigned major = 0;
  unsigned minor = 0;
  std::string root;           // the path inside the filesystem that is mounted here
  std::string mount_point;    // unescaped, as seen from the reading process's root
  std::string options;        // per-mount options (ro, noexec, ...)
  std::string fs_type;        // e.g. "ext4", "tmpfs", "fuse.sshfs"
  std::string source;         // may be empty: any user can mount with an empty source string
  std::string super_options;  // unescaped superblock options, e.g. "rw,lowerdir=/l,upperdir=/u"

  dev_t dev() const;
  bool read_only() const;  // "ro" among the per-mount options
};

struct MountTable {
  std::vector<MountEntry> mounts;
  // Lines that could not be parsed ("line N: ..."). The other lines still count: rejecting the
  // whole table for one odd line would leave every filesystem of that namespace unmarked.
  std::vector<std::string> skipped;
};

// Parses a whole mountinfo text (bytes in, entries out; for tests and the fuzzer too). Empty
// fields (a mount whose source is "") are accepted. Fails only when libmount cannot be set up
// (out of memory); malformed lines are listed in `skipped`.
hashdb::Result<MountTable> ParseMountInfo(std::string_view text);

enum class FsClass {
  kLocal,    // holds files that can be executed: marked (ext4, xfs, btrfs, tmpfs, vfat, ...)
  kPseudo,   // kernel interfaces with no executable content of their own (proc, sysfs, ...)
  kNetwork,  // content served by another machine (nfs, cifs, ...)
  kFuse,     // content served by a user-space process (fuse, fuse.*)
  // overlayfs: never marked itself (a mark on an overlay superblock whose layer is marked
  // makes lockd's own read of the event fd wait on lockd: docs/threat-model.md); its files are
  // covered by the marks on the filesystems that hold its layers.
  kOverlay,
};

// Unknown types are kLocal: an unknown filesystem is marked rather than left open.
FsClass ClassifyFilesystem(std::string_view fs_type);
std::string_view FsClassName(FsClass fs_class);

// True if `path` is `dir` or below it (component-wise; "/a/bc" is not below "/a/b").
bool PathIsAtOrBelow(std::string_view path, std::string_view dir);

}  // namespace lockd::os
