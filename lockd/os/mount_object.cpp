#include "lockd/os/mount_object.h"

#include <fcntl.h>
#include <linux/stat.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <cerrno>

namespace lockd::os {

namespace {

// Debian 12's headers (Linux 6.1) lack the unique mount id (Linux 6.8).
#ifndef STATX_MNT_ID_UNIQUE
constexpr unsigned kStatxMntIdUnique = 0x4000U;
#else
constexpr unsigned kStatxMntIdUnique = STATX_MNT_ID_UNIQUE;
#endif

hashdb::Result<ObjectIdentity> Identify(int dirfd, const char* path, int flags,
                                        const std::string& what, bool want_unique = true) {
  flags |= AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT;
  struct statx sx {};
  if (::statx(dirfd, path, flags, STATX_TYPE | STATX_INO | STATX_MNT_ID, &sx) != 0) {
    return hashdb::ErrnoError("statx " + what);
  }
  ObjectIdentity id;
  id.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  id.ino = sx.stx_ino;
  id.directory = S_ISDIR(sx.stx_mode);
  if ((sx.stx_mask & STATX_MNT_ID) != 0) id.mount_id = static_cast<int>(sx.stx_mnt_id);
  // The unique id shares stx_mnt_id with the old one: a second call.
  struct statx su {};
  if (want_unique && ::statx(dirfd, path, flags, kStatxMntIdUnique, &su) == 0 &&
      (su.stx_mask & kStatxMntIdUnique) != 0) {
    id.unique_id = su.stx_mnt_id;
  }
  return id;
}

}  // namespace

std::string PinnedObject::MarkPath() const { return "/proc/self/fd/" + std::to_string(fd.get()); }

hashdb::Result<PinnedObject> PinPath(const std::string& path) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  auto id = Identify(fd.get(), "", AT_EMPTY_PATH, path);
  if (!id.ok()) return id.error();
  struct statfs sf {};
  if (::fstatfs(fd.get(), &sf) != 0) return hashdb::ErrnoError("statfs " + path);
  id->fs_magic = static_cast<std::uint64_t>(sf.f_type);
  PinnedObject pinned;
  pinned.fd = std::move(fd);
  pinned.id = *id;
  return pinned;
}

hashdb::Result<ObjectIdentity> IdentifyPath(const std::string& path, bool want_unique) {
  return Identify(AT_FDCWD, path.c_str(), 0, path, want_unique);
}

hashdb::Result<ObjectIdentity> IdentifyFd(int fd) {
  return Identify(fd, "", AT_EMPTY_PATH, "fd " + std::to_string(fd));
}

}  // namespace lockd::os
