// Fuzz target for the text lockd reads from /proc (lockd/os/): the mount table
// (/proc/<pid>/mountinfo, ParseMountInfo: lockd's own prefilter, then util-linux's libmount),
// the marks of its fanotify group (/proc/self/fdinfo/<fd>, ParseFanotifyFdinfo) and a process's
// stat line (/proc/<pid>/stat, ParseProcStat, whose comm field any process chooses). A mount
// point and a source can be chosen by whoever may mount (in a user namespace, anyone), a comm
// by any process. Any bytes parse without a crash; every mount entry returned has an absolute
// mount point (what lockd marks and compares with watch paths); malformed lines are listed,
// never fatal.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lockd/os/fanotify_marks.h"
#include "lockd/os/mountinfo.h"
#include "lockd/os/process_tree.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto table = lockd::os::ParseMountInfo(text);
  if (!table.ok()) __builtin_trap();  // only an out-of-memory libmount may fail
  for (const lockd::os::MountEntry& e : table->mounts) {
    if (e.mount_point.empty() || e.mount_point[0] != '/') __builtin_trap();
    if (!lockd::os::PathIsAtOrBelow(e.mount_point, "/")) __builtin_trap();
    (void)e.read_only();
    (void)e.dev();
    (void)lockd::os::FsClassName(lockd::os::ClassifyFilesystem(e.fs_type));
  }
  const lockd::os::GroupMarks marks = lockd::os::ParseFanotifyFdinfo(text);
  for (const auto& [dev, mask] : marks.filesystems) (void)lockd::os::MaskReportsWrites(mask);
  (void)lockd::os::ParseProcStat(text);
  return 0;
}
