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

// The entries of a parse that must succeed.
std::vector<lockd::os::MountEntry> Entries(std::string_view text) {
  auto m = ParseMountInfo(text);
  REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  return m->mounts;
}

TEST_CASE("parses a real-looking mountinfo") {
  auto parsed = ParseMountInfo(kFixture);
  REQUIRE(parsed.ok());
  CHECK(parsed->skipped.empty());
  auto* m = &parsed->mounts;
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
  auto m = Entries("1 0 0:1 / /a\\012b\\134c rw - tmpfs tmpfs rw\n");
  REQUIRE(m.size() == 1);
  CHECK(m[0].mount_point == "/a\nb\\c");
}

TEST_CASE("a malformed line is skipped and named; every other line still counts") {
  // The old parser refused the whole table for one bad line: every filesystem of that mount
  // namespace then stayed unmarked.
  for (const char* bad : {
           "22 1 0:21 / /proc rw\n",                      // too short
           "x 1 0:21 / /proc rw - proc proc rw extra\n",  // mount id not a number
           "22 1 0:21 / /proc rw a b c d e f g h i\n",    // no separator
       }) {
    std::string text = std::string(kFixture) + bad + "99 25 0:77 / /late rw - tmpfs t rw\n";
    auto m = ParseMountInfo(text);
    REQUIRE(m.ok());
    CHECK(m->mounts.size() == 7);
    CHECK(m->mounts.back().mount_point == "/late");
    REQUIRE(m->skipped.size() == 1);
    CHECK_MESSAGE(m->skipped[0].find("line 7") == 0, m->skipped[0]);
  }
}

TEST_CASE("a mount whose source is the empty string is parsed, and the table with it") {
  // Any user can make one in a user namespace: mount("", "/x", "tmpfs", 0, NULL). The kernel
  // prints nothing between the type and the super options (two spaces).
  auto m = Entries(
      "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "612 611 0:88 / /tmp/u/m rw,relatime - tmpfs  rw,size=1024k,uid=65534,inode64\n"
      "613 611 0:89 / /tmp/u/n rw,relatime - tmpfs t rw\n");
  REQUIRE(m.size() == 3);
  CHECK(m[1].mount_point == "/tmp/u/m");
  CHECK(m[1].fs_type == "tmpfs");
  CHECK(m[1].source.empty());
  CHECK(m[1].dev() == makedev(0, 88));
  CHECK(m[1].super_options == "rw,size=1024k,uid=65534,inode64");
  CHECK(m[2].dev() == makedev(0, 89));
}

TEST_CASE("stacked mounts: both entries, in order, the later one on top") {
  auto m = Entries(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "70 25 0:50 / /x rw - tmpfs lower rw\n"
      "71 70 0:51 / /x rw - tmpfs upper rw\n");
  REQUIRE(m.size() == 3);
  CHECK(m[1].mount_point == "/x");
  CHECK(m[2].mount_point == "/x");
  CHECK(m[2].parent_id == 70);
  CHECK(m[1].dev() != m[2].dev());
}

TEST_CASE("leading lines that are not mountinfo do not turn the table into fstab") {
  auto m = ParseMountInfo("# comment\ngarbage\n25 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
  REQUIRE(m.ok());
  REQUIRE(m->mounts.size() == 1);
  CHECK(m->mounts[0].mount_id == 25);
  CHECK(m->skipped.size() == 2);
}

TEST_CASE("empty text and super options of an overlay") {
  auto empty = ParseMountInfo("");
  REQUIRE(empty.ok());
  CHECK(empty->mounts.empty());
  auto m = Entries(
      "69 45 0:40 / /tmp/mx/o rw,relatime - overlay ov "
      "rw,lowerdir=/tmp/a/l\\134:1:/tmp/a/l\\0403,upperdir=/tmp/a/u,workdir=/tmp/a/w,uuid=on\n");
  REQUIRE(m.size() == 1);
  CHECK(m[0].fs_type == "overlay");
  CHECK(m[0].super_options ==
        "rw,lowerdir=/tmp/a/l\\:1:/tmp/a/l 3,upperdir=/tmp/a/u,workdir=/tmp/a/w,uuid=on");
}

TEST_CASE("filesystem classification") {
  CHECK(ClassifyFilesystem("ext4") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("tmpfs") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("vfat") == FsClass::kLocal);
  CHECK(ClassifyFilesystem("overlay") == FsClass::kOverlay);    // never marked: its layers are
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
