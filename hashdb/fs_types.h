#pragma once
// Which filesystems the database builder walks, by the statfs f_type of a directory.

#include <cstdint>
#include <string_view>

namespace hashdb {

enum class FsClass : std::uint8_t {
  kLocal,    // disk, overlay, squashfs, tmpfs, ...: walked
  kPseudo,   // kernel views (proc, sysfs, cgroup, debugfs, tracefs, securityfs, bpf, ...): never
             // walked, their "files" are not programs and reading some has side effects
  kNetwork,  // NFS, SMB/CIFS, 9p, Ceph, AFS, FUSE (e.g. sshfs): never walked; content can
             // change behind our back and the daemon treats them as untrusted
};

// Classifies a statfs f_type. Unknown types are kLocal.
// Note: devtmpfs reports TMPFS_MAGIC and so is kLocal; it holds device nodes, which the
// scanner never opens.
FsClass ClassifyFsType(std::int64_t f_type);
std::string_view FsTypeName(std::int64_t f_type);  // "proc", "nfs", ... or "" when unknown

}  // namespace hashdb
