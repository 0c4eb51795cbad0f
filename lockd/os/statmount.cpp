#include "lockd/os/statmount.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

namespace lockd::os {

namespace {

// include/uapi/linux/mount.h and arch/x86/entry/syscalls (the same numbers on every
// architecture that uses the generic table).
constexpr long kSysStatmount = 457;
constexpr long kSysListmount = 458;
constexpr std::uint64_t kLsmtRoot = ~0ULL;  // LSMT_ROOT: list the whole namespace
constexpr std::uint32_t kMntIdReqSizeVer1 = 32;

constexpr std::uint64_t kStatmountSbBasic = 0x1;
constexpr std::uint64_t kStatmountMntBasic = 0x2;
constexpr std::uint64_t kStatmountMntRoot = 0x8;
constexpr std::uint64_t kStatmountMntPoint = 0x10;
constexpr std::uint64_t kStatmountFsType = 0x20;
constexpr std::uint64_t kStatmountMntOpts = 0x80;
constexpr std::uint64_t kStatmountSbSource = 0x200;

struct MntIdReq {
  std::uint32_t size;
  std::uint32_t spare;
  std::uint64_t mnt_id;
  std::uint64_t param;
  std::uint64_t mnt_ns_id;
};
static_assert(sizeof(MntIdReq) == kMntIdReqSizeVer1);

// The fixed part of struct statmount (Linux 6.18 layout; later kernels only add fields in the
// spare area, and the kernel reports in `mask` which ones it filled).
struct StatmountHead {
  std::uint32_t size;
  std::uint32_t mnt_opts;
  std::uint64_t mask;
  std::uint32_t sb_dev_major;
  std::uint32_t sb_dev_minor;
  std::uint64_t sb_magic;
  std::uint32_t sb_flags;
  std::uint32_t fs_type;
  std::uint64_t mnt_id;
  std::uint64_t mnt_parent_id;
  std::uint32_t mnt_id_old;
  std::uint32_t mnt_parent_id_old;
  std::uint64_t mnt_attr;
  std::uint64_t mnt_propagation;
  std::uint64_t mnt_peer_group;
  std::uint64_t mnt_master;
  std::uint64_t propagate_from;
  std::uint32_t mnt_root;
  std::uint32_t mnt_point;
  std::uint64_t mnt_ns_id;
  std::uint32_t fs_subtype;
  std::uint32_t sb_source;
  std::uint32_t opt_num;
  std::uint32_t opt_array;
  std::uint32_t opt_sec_num;
  std::uint32_t opt_sec_array;
  std::uint64_t supported_mask;
  std::uint32_t mnt_uidmap_num;
  std::uint32_t mnt_uidmap;
  std::uint32_t mnt_gidmap_num;
  std::uint32_t mnt_gidmap;
  std::uint64_t spare2[43];
};
static_assert(sizeof(StatmountHead) == 512);

// A mount with very long paths or options needs more; statmount says EOVERFLOW and we retry.
constexpr std::size_t kInitialBuffer = 16 * 1024;
constexpr std::size_t kMaxBuffer = 1024 * 1024;
// A namespace with more mounts than this is listed in several calls.
constexpr std::size_t kListBatch = 512;

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// statmount's mnt_opts are escaped the way mountinfo escapes them (\NNN octal).
std::string UnescapeOctal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) &&
        IsOctal(s[i + 3])) {
      out.push_back(
          static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string StringAt(const std::vector<char>& buf, std::uint64_t mask, std::uint64_t bit,
                     std::uint32_t offset) {
  if ((mask & bit) == 0) return {};
  const std::size_t base = sizeof(StatmountHead) + offset;
  if (base >= buf.size()) return {};
  const char* s = buf.data() + base;
  return std::string(s, ::strnlen(s, buf.size() - base));
}

}  // namespace

hashdb::Result<MountEntry> StatMount(std::uint64_t unique_id, std::uint64_t mnt_ns_id) {
  MntIdReq req{kMntIdReqSizeVer1, 0, unique_id,
               kStatmountSbBasic | kStatmountMntBasic | kStatmountMntRoot | kStatmountMntPoint |
                   kStatmountFsType | kStatmountMntOpts | kStatmountSbSource,
               mnt_ns_id};
  std::vector<char> buf(kInitialBuffer);
  for (;;) {
    if (::syscall(kSysStatmount, &req, buf.data(), buf.size(), 0) == 0) break;
    if (errno == EOVERFLOW && buf.size() < kMaxBuffer) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (errno == ENOSYS) {
      return hashdb::MakeError(hashdb::ErrorCode::kUnsupported,
                               "statmount: not in this kernel (Linux 6.8+)");
    }
    return hashdb::ErrnoError("statmount " + std::to_string(unique_id));
  }
  StatmountHead head{};
  std::memcpy(&head, buf.data(), sizeof head);
  MountEntry e;
  e.unique_id = head.mnt_id;
  e.mount_id = static_cast<int>(head.mnt_id_old);
  e.parent_id = static_cast<int>(head.mnt_parent_id_old);
  e.major = head.sb_dev_major;
  e.minor = head.sb_dev_minor;
  e.root = StringAt(buf, head.mask, kStatmountMntRoot, head.mnt_root);
  e.mount_point = StringAt(buf, head.mask, kStatmountMntPoint, head.mnt_point);
  e.fs_type = StringAt(buf, head.mask, kStatmountFsType, head.fs_type);
  e.source = StringAt(buf, head.mask, kStatmountSbSource, head.sb_source);
  e.super_options = UnescapeOctal(StringAt(buf, head.mask, kStatmountMntOpts, head.mnt_opts));
  return e;
}

hashdb::Result<std::vector<MountEntry>> ListNamespaceMounts(std::uint64_t mnt_ns_id) {
  std::vector<std::uint64_t> ids;
  std::uint64_t last = 0;
  for (;;) {
    MntIdReq req{kMntIdReqSizeVer1, 0, kLsmtRoot, last, mnt_ns_id};
    std::vector<std::uint64_t> batch(kListBatch);
    const long n = ::syscall(kSysListmount, &req, batch.data(), batch.size(), 0);
    if (n < 0) {
      if (errno == ENOSYS || ((errno == EINVAL || errno == E2BIG) && mnt_ns_id != 0)) {
        return hashdb::MakeError(hashdb::ErrorCode::kUnsupported,
                                 "listmount of another namespace: not in this kernel (Linux "
                                 "6.11+)");
      }
      return hashdb::ErrnoError("listmount of mount namespace " + std::to_string(mnt_ns_id));
    }
    ids.insert(ids.end(), batch.begin(), batch.begin() + n);
    if (static_cast<std::size_t>(n) < batch.size()) break;
    last = batch.back();
  }
  std::vector<MountEntry> out;
  out.reserve(ids.size());
  for (std::uint64_t id : ids) {
    auto e = StatMount(id, mnt_ns_id);
    if (!e.ok()) continue;  // unmounted since the list was taken
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace lockd::os
