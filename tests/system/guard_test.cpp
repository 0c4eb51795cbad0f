// Unit tests of the bed's safety guard (tests/system/guard.h) on captured mount tables.
#include "tests/system/guard.h"

#include <doctest/doctest.h>
#include <sys/sysmacros.h>

#include <string>

namespace {

// /proc/self/mountinfo of the development VM (host side), as captured.
const char* kHost =
    "21 26 0:20 / /proc rw,relatime - proc proc rw\n"
    "22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n"
    "23 26 0:6 / /dev rw,relatime - devtmpfs devtmpfs "
    "rw,size=12334808k,nr_inodes=3083702,mode=755\n"
    "24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683748k\n"
    "25 23 0:23 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534\n"
    "27 26 0:24 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs "
    "model_tools_unavailable ro,size=4k,mode=755\n"
    "28 25 0:25 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000\n"
    "29 24 0:26 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683748k\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// The bed's /proc/self/mountinfo after pivot_root and the detach of the old root.
const char* kBed =
    "412 358 7:3 / / rw,relatime - ext4 /dev/loop3 rw\n"
    "413 412 0:61 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "414 412 0:62 / /dev rw,nosuid,relatime - tmpfs bed-dev rw,size=1024k,mode=755\n"
    "415 414 0:63 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts "
    "rw,mode=620,ptmxmode=666\n"
    "416 414 0:64 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw\n"
    "417 412 0:65 / /tmp rw,nosuid,nodev,relatime - tmpfs tmpfs rw\n"
    "418 412 0:66 / /run rw,nosuid,nodev,relatime - tmpfs tmpfs rw,mode=755\n";

std::string With(const std::string& line) { return std::string(kBed) + line + "\n"; }

bool Mentions(const bedguard::Verdict& v, const std::string& what) {
  for (const auto& r : v.refusals) {
    if (r.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a bed whose superblocks are all its own is accepted and listed") {
  auto v = bedguard::UnsharedSuperblocks(kHost, kBed);
  CHECK(v.ok());
  CHECK(v.superblocks.size() == 7);
  CHECK(v.superblocks.at("7:3") == "ext4 on /");
  CHECK(v.superblocks.at("0:61") == "proc on /proc");
}

TEST_CASE("one superblock shared with the host makes the guard refuse") {
  SUBCASE("a bind of a host directory (same device as the host's /)") {
    auto v = bedguard::UnsharedSuperblocks(
        kHost, With("420 412 254:0 /work /srv/work rw,relatime - ext4 /dev/vda rw"));
    CHECK_FALSE(v.ok());
    CHECK(v.refusals.size() == 2);  // the host's device, and a bind from outside the bed
    CHECK(Mentions(v,
                   "/srv/work (ext4, source \"/dev/vda\", device 254:0, root /work): device "
                   "254:0 is the host's /"));
  }
  SUBCASE("the old root still attached") {
    auto v = bedguard::UnsharedSuperblocks(
        kHost, With("419 412 254:0 / /.oldroot rw,relatime - ext4 /dev/vda rw"));
    CHECK_FALSE(v.ok());
    CHECK(Mentions(v, "is the host's /"));
    CHECK(Mentions(v, "the old root is still attached"));
  }
  SUBCASE("the host's /proc (not a proc of the bed's pid namespace)") {
    auto v =
        bedguard::UnsharedSuperblocks(kHost, With("421 412 0:20 / /hostproc rw - proc proc rw"));
    CHECK_FALSE(v.ok());
    CHECK(v.refusals.size() == 1);
    CHECK(Mentions(v, "device 0:20 is the host's /proc"));
  }
  SUBCASE("the host's /dev/shm, seen through a second host mount of the same device") {
    auto v = bedguard::UnsharedSuperblocks(kHost, With("422 414 0:26 / /dev/shm2 rw - tmpfs "
                                                       "tmpfs rw"));
    CHECK_FALSE(v.ok());
    CHECK(Mentions(v, "is the host's /dev/shm"));
  }
}

TEST_CASE("filesystem types only the host has are refused even with a new device number") {
  for (const char* line : {"430 412 0:90 / /sys rw - sysfs sysfs rw",
                           "431 412 0:91 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
                           "432 412 0:92 / /sys/kernel/debug rw - debugfs debugfs rw",
                           "433 412 0:93 / /dev rw - devtmpfs devtmpfs rw"}) {
    auto v = bedguard::UnsharedSuperblocks(kHost, With(line));
    CHECK_FALSE(v.ok());
    CHECK(Mentions(v, "is not one the bed creates"));
  }
}

TEST_CASE("binds inside the bed are accepted, binds of something not mounted whole are not") {
  auto ok = bedguard::UnsharedSuperblocks(
      kHost, With("440 412 7:3 /usr /srv/lower ro,relatime - ext4 /dev/loop3 rw"));
  CHECK(ok.ok());
  auto bad = bedguard::UnsharedSuperblocks(
      kHost, With("441 412 7:9 /images /srv/lower ro,relatime - ext4 /dev/loop9 rw"));
  CHECK_FALSE(bad.ok());
  CHECK(Mentions(bad, "a bind from outside the bed"));
}

TEST_CASE("mount tables that do not parse, or say nothing, are refusals") {
  CHECK(Mentions(bedguard::UnsharedSuperblocks(kHost, With("garbage")),
                 "bed mountinfo line 8: expected 6 fields"));
  CHECK(Mentions(bedguard::UnsharedSuperblocks(kHost, With("1 2 x:y / /a rw - tmpfs t rw")),
                 "expected numeric mount id"));
  CHECK(Mentions(bedguard::UnsharedSuperblocks("", kBed), "the host's mount table is empty"));
  CHECK(Mentions(bedguard::UnsharedSuperblocks(kHost, "413 412 0:61 / /proc rw - proc proc rw\n"),
                 "shows no root mount"));
}

TEST_CASE("an empty source and escaped paths are parsed as the kernel writes them") {
  // mount -t tmpfs "" dir: the kernel prints the empty source as an empty field.
  auto t = bedguard::ParseMountinfo(
      "450 412 0:70 / /mnt/empty\\040source rw,relatime shared:5 - tmpfs  rw,inode64\n", "t");
  REQUIRE(t.errors.empty());
  REQUIRE(t.lines.size() == 1);
  CHECK(t.lines[0].source.empty());
  CHECK(t.lines[0].mount_point == "/mnt/empty source");
  CHECK(t.lines[0].fs_type == "tmpfs");
  CHECK(bedguard::UnsharedSuperblocks(
            kHost, With("450 412 0:70 / /mnt/x rw,relatime shared:5 - tmpfs  rw,inode64"))
            .ok());
}

TEST_CASE("what stat(2) sees must agree with the tables") {
  auto v = bedguard::UnsharedSuperblocks(kHost, kBed);
  REQUIRE(v.ok());
  bedguard::CheckObserved(kHost, kBed, {{"/", makedev(7, 3)}, {"/proc", makedev(0, 61)}}, v);
  CHECK(v.ok());
  bedguard::CheckObserved(kHost, kBed, {{"/tmp", makedev(254, 0)}}, v);
  CHECK(Mentions(v, "/tmp: stat shows device 254:0, the host's /"));
  bedguard::CheckObserved(kHost, kBed, {{"/run", makedev(0, 99)}}, v);
  CHECK(Mentions(v, "/run: stat shows device 0:99, which no mount line in the bed shows"));
}
