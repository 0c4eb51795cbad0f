#include "lockd/os/fanotify_marks.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "hashdb/unique_fd.h"

namespace lockd::os {

namespace {

// fdinfo prints sb->s_dev in the kernel's internal encoding: major in the top 12 bits, minor in
// the low 20 (include/linux/kdev_t.h).
dev_t FromKernelDev(std::uint64_t v) {
  return makedev(static_cast<unsigned>(v >> 20), static_cast<unsigned>(v & 0xfffff));
}

// The hex value of "key:<hex>" in line, if present.
bool HexField(std::string_view line, std::string_view key, std::uint64_t& out) {
  std::size_t at = 0;
  for (;;) {
    at = line.find(key, at);
    if (at == std::string_view::npos) return false;
    if (at == 0 || line[at - 1] == ' ') break;
    at += key.size();
  }
  const char* begin = line.data() + at + key.size();
  const char* end = line.data() + line.size();
  auto [p, ec] = std::from_chars(begin, end, out, 16);
  return ec == std::errc() && p != begin && (p == end || *p == ' ');
}

// /proc fdinfo of a group with thousands of marks is a few hundred KiB at most.
constexpr std::size_t kMaxFdinfoBytes = 16u << 20;

}  // namespace

GroupMarks ParseFanotifyFdinfo(std::string_view text) {
  GroupMarks marks;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    constexpr std::string_view kPrefix = "fanotify ";
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    // An inode mark ("fanotify ino:... sdev:..."; lockd's ignore marks) names its superblock
    // too: it is not a mark on that superblock.
    if (line.substr(kPrefix.size(), 4) == "ino:") continue;
    std::uint64_t mask = 0;
    if (!HexField(line, "mask:", mask)) continue;
    std::uint64_t v = 0;
    if (HexField(line, "sdev:", v)) {
      marks.filesystems[FromKernelDev(v)] |= mask;
    } else if (HexField(line, "mnt_id:", v)) {
      marks.mounts[static_cast<int>(v)] |= mask;
    }
  }
  return marks;
}

hashdb::Result<GroupMarks> ReadGroupMarks(int group_fd) {
  const std::string path = "/proc/self/fdinfo/" + std::to_string(group_fd);
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("read " + path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFdinfoBytes) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat, path + ": larger than 16 MiB");
    }
  }
  return ParseFanotifyFdinfo(text);
}

hashdb::Status FlushGroupMarks(int group_fd) {
  hashdb::Status status;
  for (unsigned type : {FAN_MARK_FILESYSTEM, FAN_MARK_MOUNT}) {
    if (::fanotify_mark(group_fd, FAN_MARK_FLUSH | type, 0, AT_FDCWD, nullptr) != 0 &&
        status.ok()) {
      status = hashdb::ErrnoError("fanotify_mark(FAN_MARK_FLUSH)");
    }
  }
  return status;
}

bool MaskReportsWrites(std::uint64_t mask) {
  return (mask & FAN_MODIFY) != 0 && (mask & FAN_CLOSE_WRITE) != 0;
}

}  // namespace lockd::os
