#include "lockd/filesystem_marker.h"

#include <doctest/doctest.h>

using lockd::SelectMounts;

namespace {
std::vector<lockd::os::MountEntry> Mounts() {
  auto m = lockd::os::ParseMountInfo(
      "22 1 0:21 / /proc rw - proc proc rw\n"
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "26 25 0:23 / /dev/shm rw - tmpfs tmpfs rw\n"
      "30 25 0:40 / /tmp/t rw - tmpfs tmpfs rw\n"
      "31 30 7:3 / /tmp/t/img rw - ext4 /dev/loop3 rw\n"
      "32 30 0:41 / /tmp/t/late rw - tmpfs tmpfs rw\n"
      "33 25 0:42 / /tmp/tt rw - tmpfs tmpfs rw\n"
      "34 30 0:43 / /tmp/t/remote rw - nfs4 srv:/x rw\n");
  REQUIRE(m.ok());
  return *m;
}
std::vector<std::string> Points(const std::vector<lockd::os::MountEntry>& v) {
  std::vector<std::string> out;
  for (const auto& m : v) out.push_back(m.mount_point);
  return out;
}
}  // namespace

TEST_CASE("without watch: every local and untrusted (network, FUSE) filesystem, no pseudo ones") {
  // Untrusted ones are marked for exec only, so that an exec there is seen and denied.
  auto s = Points(SelectMounts(Mounts(), std::nullopt));
  CHECK(s == std::vector<std::string>{"/", "/dev/shm", "/tmp/t", "/tmp/t/img", "/tmp/t/late",
                                      "/tmp/tt", "/tmp/t/remote"});
}

TEST_CASE("with watch: the filesystem of the path and everything mounted below it only") {
  auto s = Points(SelectMounts(Mounts(), std::vector<std::string>{"/tmp/t"}));
  CHECK(s == std::vector<std::string>{"/tmp/t", "/tmp/t/img", "/tmp/t/late", "/tmp/t/remote"});
}

TEST_CASE("FUSE filesystems are selected, fusectl (pseudo) is not") {
  auto m = lockd::os::ParseMountInfo(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "40 25 0:50 / /home/u/remote rw - fuse.sshfs u@host: rw\n"
      "41 25 0:51 / /sys/fs/fuse/connections rw - fusectl fusectl rw\n"
      "42 25 0:52 / /dev/hugepages rw - hugetlbfs hugetlbfs rw\n");
  REQUIRE(m.ok());
  CHECK(Points(SelectMounts(*m, std::nullopt)) == std::vector<std::string>{"/", "/home/u/remote"});
}

TEST_CASE("a watch path inside a mount selects that mount, never the root") {
  auto s = Points(SelectMounts(Mounts(), std::vector<std::string>{"/tmp/t/img/sub/dir"}));
  CHECK(s == std::vector<std::string>{"/tmp/t/img"});
}

TEST_CASE("with watch, the root filesystem is never selected unless / itself is watched") {
  // A watch path that is a plain directory of the root filesystem: nothing is selected (lockd
  // then refuses to start), rather than a filesystem mark over the whole machine.
  CHECK(SelectMounts(Mounts(), std::vector<std::string>{"/srv/sandbox"}).empty());
  // A bind mount of a root-filesystem directory below the watch path: same superblock as /.
  auto m = lockd::os::ParseMountInfo(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "30 25 0:40 / /tmp/t rw - tmpfs tmpfs rw\n"
      "31 30 8:1 /usr/bin /tmp/t/bin rw - ext4 /dev/sda1 rw\n");
  REQUIRE(m.ok());
  CHECK(Points(SelectMounts(*m, std::vector<std::string>{"/tmp/t"})) ==
        std::vector<std::string>{"/tmp/t"});
  CHECK(Points(SelectMounts(*m, std::vector<std::string>{"/"})) ==
        std::vector<std::string>{"/", "/tmp/t", "/tmp/t/bin"});
}
