#pragma once
// FUSE connections as the kernel's fusectl filesystem shows them: one directory per connection
// under /sys/fs/fuse/connections, named by the superblock's device number in the kernel's
// encoding (major << 20 | minor), holding `waiting` (requests sent and not yet answered) and
// `abort` (writing to it ends the connection: every request still waiting fails with
// ECONNABORTED/ENOTCONN, and so does every later access to the mount until it is unmounted).
//
// lockd aborts a connection only when a request to its server has held lockd itself for longer
// than a bound (untrusted_reader.h): the kernel's open of an event's file for lockd, or a
// worker's read of it. On a terminal a FUSE filesystem is untrusted anyway (its execs are denied
// unread by default); an aborted one stays dead until it is mounted again.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hashdb/result.h"

namespace lockd::os {

// A marked FUSE filesystem: its superblock's st_dev (userspace encoding) and where it is mounted
// (empty when the caller's mount namespace does not show it).
struct FuseMount {
  std::uint64_t dev = 0;
  std::string mount_point;
};

// The FUSE filesystems the fanotify group `group_fd` (an fd of the calling process) has marks
// on: the kernel's list of the group's marks (fdinfo, fanotify_marks.h) joined with the caller's
// /proc/self/mountinfo (type, mount point). Marks stay on the group when the process that placed
// them dies, so the supervisor, which holds the group, learns here what its dead decider marked.
// A filesystem mark whose superblock has no mount in the caller's namespace is listed with an
// empty mount point (type unknown; FuseConnections::Waiting says whether it is a FUSE
// connection). Reads procfs only: never waits on a FUSE server.
hashdb::Result<std::vector<FuseMount>> MarkedFuseMounts(int group_fd);

// The fusectl directory name of the connection behind a superblock with this st_dev
// (userspace encoding, as fstat and mountinfo give it).
std::string FuseConnectionName(std::uint64_t st_dev);

class FuseConnections {
 public:
  virtual ~FuseConnections() = default;
  // Requests of this connection that wait for an answer; nullopt when there is no such
  // connection (not FUSE, already gone) or it cannot be read.
  virtual std::optional<std::uint64_t> Waiting(std::uint64_t st_dev) = 0;
  // Ends the connection. kNotFound when there is no such connection.
  virtual hashdb::Status Abort(std::uint64_t st_dev) = 0;
};

// The real one. `dir` is where fusectl is (or is mounted on first use, when that directory is
// empty and not a fusectl mount: mount -t fusectl, in lockd's mount namespace).
class LinuxFuseConnections final : public FuseConnections {
 public:
  explicit LinuxFuseConnections(std::string dir = "/sys/fs/fuse/connections")
      : dir_(std::move(dir)) {}
  std::optional<std::uint64_t> Waiting(std::uint64_t st_dev) override;
  hashdb::Status Abort(std::uint64_t st_dev) override;

 private:
  // Mounts fusectl on dir_ unless it is one already. Errors are returned (the caller reports).
  hashdb::Status EnsureMounted();
  std::string dir_;
};

}  // namespace lockd::os
