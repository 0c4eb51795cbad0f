#pragma once
// System calls on an event's file descriptor: fstat, and whether the file has writers.

#include "hashdb/result.h"
#include "lockd/file_facts.h"

namespace lockd::os {

hashdb::Result<FileFacts> StatFd(int fd);

// Asks the kernel whether the file behind fd (opened read-only) is open for writing anywhere,
// including through a shared writable mmap whose fd was closed (the mapping keeps the writer
// reference). Uses the read-lease rule: F_SETLEASE(F_RDLCK) fails with EAGAIN while the inode
// has writers; the lease is dropped at once. Needs CAP_LEASE (or file ownership). Filesystems
// without lease support give kUnknown.
WriterState ProbeWriters(int fd);

}  // namespace lockd::os
