#include "lockd/os/mount_notifier.h"

#include <doctest/doctest.h>
#include <sys/fanotify.h>

#include <cstring>
#include <vector>

namespace {
// One FAN_REPORT_MNT event as the kernel writes it: metadata, then {type 7, len 16, mnt_id}.
void AppendEvent(std::vector<std::uint8_t>& out, std::uint64_t mask, pid_t pid,
                 std::uint64_t mnt_id) {
  fanotify_event_metadata m{};
  m.event_len = sizeof m + 16;
  m.vers = FANOTIFY_METADATA_VERSION;
  m.metadata_len = sizeof m;
  m.mask = mask;
  m.fd = FAN_NOFD;
  m.pid = pid;
  const std::size_t at = out.size();
  out.resize(at + m.event_len);
  std::memcpy(out.data() + at, &m, sizeof m);
  const std::uint8_t hdr[4] = {7, 0, 16, 0};
  std::memcpy(out.data() + at + sizeof m, hdr, 4);
  std::memcpy(out.data() + at + sizeof m + 8, &mnt_id, 8);
}
}  // namespace

TEST_CASE("mount events: attach and detach with the unique mount id and the mounter") {
  std::vector<std::uint8_t> bytes;
  AppendEvent(bytes, 0x01000000, 28873, 2147484285ULL);
  AppendEvent(bytes, 0x02000000, 28874, 2147484285ULL);
  auto changes = lockd::os::ParseMountEvents(bytes);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].attached);
  CHECK(changes[0].pid == 28873);
  CHECK(changes[0].unique_id == 2147484285ULL);
  CHECK_FALSE(changes[1].attached);
}

TEST_CASE("mount events: an overflow and a truncated buffer") {
  std::vector<std::uint8_t> bytes;
  fanotify_event_metadata m{};
  m.event_len = sizeof m;
  m.vers = FANOTIFY_METADATA_VERSION;
  m.metadata_len = sizeof m;
  m.mask = FAN_Q_OVERFLOW;
  m.fd = FAN_NOFD;
  bytes.resize(sizeof m);
  std::memcpy(bytes.data(), &m, sizeof m);
  auto changes = lockd::os::ParseMountEvents(bytes);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].unique_id == 0);  // the caller re-reads every table
  std::vector<std::uint8_t> cut;
  AppendEvent(cut, 0x01000000, 1, 5);
  cut.resize(cut.size() - 3);
  CHECK(lockd::os::ParseMountEvents(cut).empty());
}
