#pragma once
// listmount(2) and statmount(2) (Linux 6.8; a namespace other than the caller's from 6.11): the
// complete mount table of a mount namespace by its id, whatever any process in it has chrooted
// to, and one mount by its unique id (what a FAN_MNT_ATTACH event names). Debian 12's headers
// (Linux 6.1) lack both: the system call numbers and structures are defined here.

#include <cstdint>
#include <vector>

#include "hashdb/result.h"
#include "lockd/os/mountinfo.h"

namespace lockd::os {

// Every mount of the namespace, with unique_id set and mount points relative to the
// namespace's root. kUnsupported when the kernel lacks the calls (ENOSYS, or EINVAL for a
// namespace id on 6.8..6.10): the caller falls back to reading /proc/<pid>/mountinfo.
hashdb::Result<std::vector<MountEntry>> ListNamespaceMounts(std::uint64_t mnt_ns_id);

// One mount by its unique id in the namespace `mnt_ns_id` (0: the caller's). The entry's
// options field is empty (statmount reports mount attributes as bits; lockd does not need them
// here).
hashdb::Result<MountEntry> StatMount(std::uint64_t unique_id, std::uint64_t mnt_ns_id);

}  // namespace lockd::os
