#include "lockd/os/fanotify_marks.h"

#include <doctest/doctest.h>
#include <sys/fanotify.h>
#include <sys/sysmacros.h>

using lockd::os::ParseFanotifyFdinfo;

TEST_CASE("fdinfo of a fanotify group: filesystem and mount marks, kernel device encoding") {
  // Captured from /proc/self/fdinfo of a group with two tmpfs marks (0:40 and 0:39), plus a
  // block device (8:1 is 0x800001 in the kernel's encoding) and a mount mark.
  auto marks = ParseFanotifyFdinfo(
      "pos:\t0\nflags:\t02004002\nmnt_id:\t17\nino:\t1039\n"
      "fanotify flags:7 event-flags:8000\n"
      "fanotify sdev:28 mflags:0 mask:40008 ignored_mask:0\n"
      "fanotify sdev:27 mflags:0 mask:40008 ignored_mask:0\n"
      "fanotify sdev:800001 mflags:0 mask:5000a ignored_mask:0\n"
      "fanotify mnt_id:41 mflags:0 mask:40000 ignored_mask:0\n"
      "fanotify ino:1f sdev:28 mflags:0 mask:0 ignored_mask:40000 fhandle-bytes:8 "
      "fhandle-type:1 f_handle:1f00000000000000\n");
  REQUIRE(marks.filesystems.size() == 3);
  CHECK(marks.filesystems.count(makedev(0, 40)) == 1);
  CHECK(marks.filesystems.count(makedev(0, 39)) == 1);
  REQUIRE(marks.filesystems.count(makedev(8, 1)) == 1);
  CHECK(marks.filesystems.at(makedev(8, 1)) == 0x5000a);
  REQUIRE(marks.mounts.size() == 1);
  CHECK(marks.mounts.at(0x41) == 0x40000);
  // The inode (ignore) mark on 0:40 is neither: only its sb mark's mask is kept.
  CHECK(marks.filesystems.at(makedev(0, 40)) == 0x40008);
}

TEST_CASE("fdinfo: an inode (ignore) mark alone does not make its superblock marked") {
  // lockd's ignore marks (kernel_cache.h) outlive nothing, but a superblock whose mark is gone
  // while an inode mark on it is listed must be seen as unmarked, and marked again.
  auto marks = ParseFanotifyFdinfo(
      "fanotify flags:7 event-flags:8000\n"
      "fanotify ino:1f sdev:800001 mflags:40 mask:0 ignored_mask:50000 fhandle-bytes:8 "
      "fhandle-type:1 f_handle:1f00000000000000\n");
  CHECK(marks.filesystems.empty());
  CHECK(marks.mounts.empty());
}

TEST_CASE("fdinfo: garbage and empty text give no marks") {
  CHECK(ParseFanotifyFdinfo("").filesystems.empty());
  auto m = ParseFanotifyFdinfo("fanotify sdev:zz mflags:0 mask:1\nfanotify sdev:28 mflags:0\n");
  CHECK(m.filesystems.empty());
  CHECK(m.mounts.empty());
}

TEST_CASE("a mark caches only when it reports writes") {
  CHECK(lockd::os::MaskReportsWrites(FAN_OPEN_EXEC_PERM | FAN_MODIFY | FAN_CLOSE_WRITE));
  CHECK_FALSE(lockd::os::MaskReportsWrites(FAN_OPEN_EXEC_PERM));
  CHECK_FALSE(lockd::os::MaskReportsWrites(FAN_OPEN_EXEC_PERM | FAN_CLOSE_WRITE));
}
