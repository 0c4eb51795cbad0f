#include "lockd/os/mountinfo.h"

#include <doctest/doctest.h>
#include <sys/sysmacros.h>

using lockd::os::ClassifyFilesystem;
using lockd::os::FsClass;
using lockd::os::ParseMountInfo;
using lockd::os::PathIsAtOrBelow;

namespace {
constexpr char kFixture[] =
    "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n"
    "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "26 25 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,inode64\n"
    "40 25 7:0 / /mnt/usb\\040stick ro,relatime shared:20 master:1 - vfat /dev/loop0 ro\n"
    "41 25 0:50 / /home/u/remote rw - fuse.sshfs u@host: rw,user_id=0\n"
    "42 25 0:51 /sub /srv/nfs rw - nfs4 server:/export rw\n";
}

TEST_CASE("parses a real-looking mountinfo") {
  auto m = ParseMountInfo(kFixture);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  REQUIRE(m->size() == 6);
  CHECK((*m)[0].fs_type == "proc");
  CHECK((*m)[1].mount_point == "/");
  CHECK((*m)[1].major == 8);
  CHECK((*m)[1].minor == 1);
  CHECK((*m)[1].dev() == makedev(8, 1));
  CHECK((*m)[1].source == "/dev/sda1");
  CHECK((*m)[2].mount_id == 26);
  CHECK((*m)[2].parent_id == 25);
  // Octal escape, optional fields (two of them) skipped.
  CHECK((*m)[3].mount_point == "/mnt/usb stick");
  CHECK((*m)[3].fs_type == "vfat");
  CHECK((*m)[3].read_only());
  CHECK_FALSE((*m)[1].read_only());
  CHECK((*m)[4].fs_type == "fuse.sshfs");
  CHECK((*m)[5].root == "/sub");
}

TEST_CASE("escaped newline and backslash in a mount point") {
  auto m = ParseMountInfo("1 0 0:1 / /a\\012b\\134c rw - tmpfs tmpfs rw\n");
  REQUIRE(m.ok());
  CHECK((*m)[0].mount_point == "/a\nb\\c");
}

TEST_CASE("malformed lines are errors naming the line") {
  for (const char* bad : {
           "22 1 0:21 / /proc rw\n",                         // too short
           "x 1 0:21 / /proc rw - proc proc rw extra\n",     // mount id not a number
           "22 1 021 / /proc rw a b - proc proc rw\n",       // no major:minor
           "22 1 0:21 / /proc rw a b c d e f g h i\n",       // no separator
           "22 1 0:21 / proc rw shared:1 - proc proc rw\n",  // relative mount point
       }) {
    std::string text = std::string(kFixture) + bad;
    auto m = ParseMountInfo(text);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find("mountinfo line 7") == 0);
  }
}

TEST_CASE("filesystem classification") {
  CHECK(ClassifyFilesystem("ext4") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("tmpfs") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("vfat") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("overlay") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("some-new-fs") == FsClass::kLocal);  // unknown: marked
  CHECK(ClassifyFilesystem("proc") == FsClass::kPseudo);
  CHECK(ClassifyFilesystem("sysfs") == FsClass::kPseudo);
  CHECK(ClassifyFilesystem("cgroup2") == FsClass::kPseudo);
  CHECK(ClassifyFilesystem("nfs4") == FsClass::kNetwork);
  CHECK(ClassifyFilesystem("cifs") == FsClass::kNetwork);
  CHECK(ClassifyFilesystem("fuse.sshfs") == FsClass::kFuse);
  CHECK(ClassifyFilesystem("fuseblk") == FsClass::kFuse);
  CHECK(ClassifyFilesystem("fusectl") == FsClass::kPseudo);
}

TEST_CASE("PathIsAtOrBelow is component-wise") {
  CHECK(PathIsAtOrBelow("/a/b", "/a/b"));
  CHECK(PathIsAtOrBelow("/a/b/c", "/a/b"));
  CHECK(PathIsAtOrBelow("/a/b/c", "/a/b/"));
  CHECK_FALSE(PathIsAtOrBelow("/a/bc", "/a/b"));
  CHECK_FALSE(PathIsAtOrBelow("/a", "/a/b"));
  CHECK(PathIsAtOrBelow("/anything", "/"));
}
