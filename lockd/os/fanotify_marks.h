#pragma once
// What the kernel says a fanotify group has marked: /proc/self/fdinfo/<group fd> lists one line
// per mark ("fanotify sdev:<dev> mflags:.. mask:.. ignored_mask:.." for a filesystem mark,
// "fanotify mnt_id:<id> ..." for a mount mark, in hex). A superblock's marks die with it, and a
// device number names one live superblock at a time, so "this st_dev has a filesystem mark" read
// here is true for the superblock that has the number now: unlike lockd's own memory of what
// it marked, it cannot be fooled by a device number reused after an unmount and a new mount.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string_view>

#include "hashdb/result.h"

namespace lockd::os {

struct GroupMarks {
  std::map<dev_t, std::uint64_t> filesystems;  // st_dev (userspace encoding) -> FAN_* mask
  std::map<int, std::uint64_t> mounts;         // mountinfo mount id -> FAN_* mask
};

// Parses the text of /proc/<pid>/fdinfo/<fanotify fd>. Lines that are not marks (pos:, flags:,
// "fanotify flags:...", inode marks) are ignored; a mark line that does not parse is too (the
// caller then sees the superblock as unmarked and marks it again: the safe direction).
GroupMarks ParseFanotifyFdinfo(std::string_view text);

// Reads /proc/self/fdinfo/<group_fd> of the calling process.
hashdb::Result<GroupMarks> ReadGroupMarks(int group_fd);

// Removes every filesystem and mount mark of the group (FAN_MARK_FLUSH), e.g. at shutdown.
hashdb::Status FlushGroupMarks(int group_fd);

// Whether a mark with this mask reports writes (FAN_MODIFY and FAN_CLOSE_WRITE): the condition
// for caching decisions about its files (decision_cache.h, rule 1).
bool MaskReportsWrites(std::uint64_t mask);

}  // namespace lockd::os
