#include "lockd/mount_selection.h"

#include <doctest/doctest.h>
#include <sys/sysmacros.h>

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
  return m->mounts;
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
  CHECK(Points(SelectMounts(m->mounts, std::nullopt)) ==
        std::vector<std::string>{"/", "/home/u/remote"});
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
  CHECK(Points(SelectMounts(m->mounts, std::vector<std::string>{"/tmp/t"})) ==
        std::vector<std::string>{"/tmp/t"});
  CHECK(Points(SelectMounts(m->mounts, std::vector<std::string>{"/"})) ==
        std::vector<std::string>{"/", "/tmp/t", "/tmp/t/bin"});
}

namespace {
std::vector<lockd::os::MountEntry> Parse(const char* text) {
  auto m = lockd::os::ParseMountInfo(text);
  REQUIRE(m.ok());
  return m->mounts;
}
lockd::os::GroupMarks MarksOf(std::initializer_list<dev_t> devs) {
  lockd::os::GroupMarks marks;
  for (dev_t d : devs) marks.filesystems[d] = 0x4000a;
  return marks;
}
}  // namespace

TEST_CASE("overlays are never selected, with or without a watch list") {
  auto m = Parse(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "30 25 0:40 / /srv rw - tmpfs t rw\n"
      "31 30 0:41 / /srv/ovl rw - overlay ov rw,lowerdir=/srv/l,upperdir=/srv/u,workdir=/srv/w\n");
  CHECK(Points(SelectMounts(m, std::nullopt)) == std::vector<std::string>{"/", "/srv"});
  CHECK(Points(SelectMounts(m, std::vector<std::string>{"/srv"})) ==
        std::vector<std::string>{"/srv"});
  CHECK(Points(lockd::SelectForeignMounts(m, std::vector<std::string>{"/srv/ovl"})).empty());
}

TEST_CASE("targets: the selected mounts whose device the kernel does not list as marked") {
  auto m = Parse(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "30 25 0:40 / /a rw - tmpfs t rw\n"
      "31 25 0:40 /sub /b rw - tmpfs t rw\n"  // a bind mount of /a's superblock
      "32 25 0:41 / /c rw - tmpfs t rw\n");
  auto targets = lockd::UnmarkedTargets(m, MarksOf({makedev(8, 1)}));
  REQUIRE(targets.size() == 2);
  // One target per device, every mount of it kept as another way in.
  REQUIRE(targets[0].size() == 2);
  CHECK(targets[0][0].mount_point == "/a");
  CHECK(targets[0][1].mount_point == "/b");
  CHECK(targets[1][0].mount_point == "/c");
  CHECK(
      lockd::UnmarkedTargets(m, MarksOf({makedev(8, 1), makedev(0, 40), makedev(0, 41)})).empty());
  // A mount that could only take a mount mark counts as marked by its mount id.
  lockd::os::GroupMarks mount_marked = MarksOf({makedev(8, 1), makedev(0, 40)});
  mount_marked.mounts[32] = 0x40000;
  CHECK(lockd::UnmarkedTargets(m, mount_marked).empty());
}

TEST_CASE("stacked mounts: the covered one is a target of its own, not taken as marked") {
  // Captured after `mount tmpfs /x; cd /x; mount tmpfs /x`: both are listed; marking /x by path
  // marks the top one only. The old marker recorded the lower entry's device as marked.
  auto m = Parse(
      "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "70 25 0:50 / /x rw,relatime - tmpfs lower rw\n"
      "71 70 0:51 / /x rw,relatime - tmpfs upper rw\n");
  auto targets = lockd::UnmarkedTargets(m, MarksOf({makedev(8, 1), makedev(0, 51)}));
  REQUIRE(targets.size() == 1);
  CHECK(targets[0][0].mount_id == 70);
  CHECK(targets[0][0].dev() == makedev(0, 50));
}

TEST_CASE("a device number reused by a new superblock is a target again") {
  // Before: 0:60 mounted at /m and marked. Then `umount /m; mount -t tmpfs t /m` within one
  // pass: the new superblock got 0:60 again (and even the same mount id). The kernel's mark
  // list no longer has 0:60 (the mark died with the old superblock), so it is marked again;
  // the old marker kept it as "already marked" by its device number.
  const char* before = "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n80 25 0:60 / /m rw - tmpfs a rw\n";
  const char* after = "25 1 8:1 / / rw - ext4 /dev/sda1 rw\n80 25 0:60 / /m rw - tmpfs b rw\n";
  CHECK(lockd::UnmarkedTargets(Parse(before), MarksOf({makedev(8, 1), makedev(0, 60)})).empty());
  auto targets = lockd::UnmarkedTargets(Parse(after), MarksOf({makedev(8, 1)}));
  REQUIRE(targets.size() == 1);
  CHECK(targets[0][0].mount_point == "/m");
}

TEST_CASE("a namespace seen through a chrooted lowest pid: the union of every root's view") {
  // pid 100 (lowest) chrooted to an empty directory sees nothing of the namespace; pid 230
  // mounted a tmpfs with an empty source and sees it. The old reader took only pid 100's view.
  auto chrooted = Parse("");
  auto other = Parse(
      "400 300 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "401 400 0:88 / /tmp/m rw,relatime - tmpfs  rw,size=1024k\n");
  auto merged = lockd::MergeViews({chrooted, other});
  REQUIRE(merged.size() == 2);
  auto targets = lockd::UnmarkedTargets(lockd::SelectForeignMounts(merged, std::nullopt),
                                        MarksOf({makedev(8, 1)}));
  REQUIRE(targets.size() == 1);
  CHECK(targets[0][0].mount_point == "/tmp/m");
  CHECK(targets[0][0].source.empty());
  // The same mount seen by two roots is listed once.
  CHECK(lockd::MergeViews({other, other}).size() == 2);
}

TEST_CASE("overlay layers from its options") {
  auto l = lockd::ParseOverlayLayers(
      "rw,lowerdir=/tmp/a/l\\:1:/tmp/a/l 3::/data,upperdir=/tmp/a/u,workdir=/tmp/a/w,uuid=on");
  CHECK(l.lower == std::vector<std::string>{"/tmp/a/l:1", "/tmp/a/l 3", "/data"});
  CHECK(l.upper == "/tmp/a/u");
  CHECK(l.work == "/tmp/a/w");
  auto plus = lockd::ParseOverlayLayers("rw,lowerdir+=/l1,lowerdir+=/l2,datadir+=/d");
  CHECK(plus.lower == std::vector<std::string>{"/l1", "/l2", "/d"});
  CHECK(plus.upper.empty());
  CHECK(lockd::ParseOverlayLayers("rw,relatime").lower.empty());
}

TEST_CASE("overlay gaps: a layer not found or on a superblock without a filesystem mark") {
  const auto marks = MarksOf({makedev(0, 40)});
  std::vector<lockd::LayerFinding> covered{{"lower", "/l", makedev(0, 40), ""},
                                           {"upper", "/u", makedev(0, 40), ""}};
  CHECK(lockd::OverlayGaps("/ovl", covered, marks).empty());
  std::vector<lockd::LayerFinding> gaps{{"lower", "/l", makedev(0, 40), ""},
                                        {"upper", "/u", makedev(0, 41), ""},
                                        {"lower", "l2", std::nullopt, "a relative path"}};
  auto g = lockd::OverlayGaps("/ovl", gaps, marks);
  REQUIRE(g.size() == 2);
  CHECK(g[0] ==
        "overlay /ovl: upper layer /u not covered (its filesystem, device 0:41, has no "
        "filesystem mark)");
  CHECK(g[1] == "overlay /ovl: lower layer l2 not covered (a relative path)");
  // A mount mark on the layer's mount does not count: overlay opens the layer through a private
  // clone of the mount, which mount marks do not see.
  lockd::os::GroupMarks mount_only;
  mount_only.mounts[5] = 0x40000;
  CHECK(lockd::OverlayGaps("/ovl", covered, mount_only).size() == 2);
  CHECK(lockd::OverlayGaps("/ovl", {}, marks).size() == 1);
}
