#include "lockd/os/mountinfo.h"

#include <sys/sysmacros.h>

#include <array>
#include <charconv>

namespace lockd::os {

namespace {

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

std::string Unescape(std::string_view s) {
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

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

dev_t MountEntry::dev() const { return makedev(major, minor); }

bool MountEntry::read_only() const {
  std::string_view opts = options;
  while (!opts.empty()) {
    std::size_t comma = opts.find(',');
    std::string_view opt = opts.substr(0, comma);
    if (opt == "ro") return true;
    if (comma == std::string_view::npos) break;
    opts.remove_prefix(comma + 1);
  }
  return false;
}

hashdb::Result<std::vector<MountEntry>> ParseMountInfo(std::string_view text) {
  std::vector<MountEntry> mounts;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                               "mountinfo line " + std::to_string(line_no) + ": " + why);
    };
    std::vector<std::string_view> f = SplitSpaces(line);
    std::size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 10 || sep + 2 >= f.size()) {
      return bad("expected at least 10 fields with a '-' separator");
    }
    MountEntry e;
    std::string_view devfield = f[2];
    std::size_t colon = devfield.find(':');
    if (!ParseNumber(f[0], e.mount_id) || !ParseNumber(f[1], e.parent_id) ||
        colon == std::string_view::npos || !ParseNumber(devfield.substr(0, colon), e.major) ||
        !ParseNumber(devfield.substr(colon + 1), e.minor)) {
      return bad("expected numeric mount id, parent id and major:minor");
    }
    e.root = Unescape(f[3]);
    e.mount_point = Unescape(f[4]);
    e.options = std::string(f[5]);
    e.fs_type = Unescape(f[sep + 1]);
    e.source = Unescape(f[sep + 2]);
    if (e.mount_point.empty() || e.mount_point[0] != '/') return bad("mount point is not absolute");
    mounts.push_back(std::move(e));
  }
  return mounts;
}

FsClass ClassifyFilesystem(std::string_view t) {
  static constexpr std::array<std::string_view, 22> kPseudo = {
      "proc",       "sysfs",     "cgroup",   "cgroup2",     "devpts",   "securityfs",
      "debugfs",    "tracefs",   "pstore",   "bpf",         "configfs", "fusectl",
      "mqueue",     "autofs",    "efivarfs", "binfmt_misc", "nsfs",     "selinuxfs",
      "rpc_pipefs", "hugetlbfs", "nfsd",     "sockfs"};
  static constexpr std::array<std::string_view, 12> kNetwork = {
      "nfs",       "nfs4", "cifs", "smb3",  "smbfs",  "ceph",
      "glusterfs", "afs",  "9p",   "ncpfs", "lustre", "gfs2"};
  for (auto p : kPseudo) {
    if (t == p) return FsClass::kPseudo;
  }
  for (auto n : kNetwork) {
    if (t == n) return FsClass::kNetwork;
  }
  if (t == "fuse" || t == "fuseblk" || t.substr(0, 5) == "fuse.") return FsClass::kFuse;
  return FsClass::kLocal;
}

std::string_view FsClassName(FsClass c) {
  switch (c) {
    case FsClass::kLocal:
      return "local";
    case FsClass::kPseudo:
      return "pseudo";
    case FsClass::kNetwork:
      return "network";
    case FsClass::kFuse:
      return "fuse";
  }
  return "unknown";
}

bool PathIsAtOrBelow(std::string_view path, std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.substr(0, dir.size()) != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace lockd::os
