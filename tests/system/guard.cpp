#include "tests/system/guard.h"

#include <sys/sysmacros.h>

#include <array>
#include <charconv>

namespace bedguard {

namespace {

std::vector<std::string_view> SplitSingleSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      fields.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return fields;
}

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// The kernel escapes space, tab, newline and backslash in paths as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
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
bool Number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string Describe(const MountLine& m) {
  return m.mount_point + " (" + m.fs_type + ", source \"" + m.source + "\", device " + m.Device() +
         (m.root == "/" ? "" : ", root " + m.root) + ")";
}

// Host device -> the host mount points that show it.
std::map<std::string, std::set<std::string>> HostDevices(const ParsedTable& host) {
  std::map<std::string, std::set<std::string>> devs;
  for (const auto& m : host.lines) devs[m.Device()].insert(m.mount_point);
  return devs;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

bool LooksLikeOldRoot(std::string_view mount_point) {
  static constexpr std::array<std::string_view, 6> kNames = {
      "/.oldroot", "/oldroot", "/old_root", "/.old_root", "/.old-root", "/old-root"};
  for (auto n : kNames) {
    if (mount_point == n || (mount_point.substr(0, n.size()) == n &&
                             mount_point.size() > n.size() && mount_point[n.size()] == '/')) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string MountLine::Device() const {
  return std::to_string(major) + ":" + std::to_string(minor);
}

ParsedTable ParseMountinfo(std::string_view text, std::string_view what) {
  ParsedTable table;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      table.errors.push_back(std::string(what) + " line " + std::to_string(line_no) + ": " + why +
                             ": " + std::string(line));
    };
    std::vector<std::string_view> f = SplitSingleSpaces(line);
    // id parent major:minor root mount-point options [optional...] - type source super-options
    std::size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    if (f.size() < 10 || sep + 4 != f.size()) {
      bad("expected 6 fields, optional fields, '-', type, source, super options");
      continue;
    }
    MountLine m;
    std::string_view dev = f[2];
    std::size_t colon = dev.find(':');
    if (!Number(f[0], m.mount_id) || !Number(f[1], m.parent_id) ||
        colon == std::string_view::npos || !Number(dev.substr(0, colon), m.major) ||
        !Number(dev.substr(colon + 1), m.minor)) {
      bad("expected numeric mount id, parent id and major:minor");
      continue;
    }
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    m.fs_type = Unescape(f[sep + 1]);
    m.source = Unescape(f[sep + 2]);
    if (m.mount_point.empty() || m.mount_point[0] != '/' || m.root.empty() || m.root[0] != '/') {
      bad("mount point and root must be absolute paths");
      continue;
    }
    if (m.fs_type.empty()) {
      bad("empty filesystem type");
      continue;
    }
    table.lines.push_back(std::move(m));
  }
  return table;
}

const std::set<std::string>& BedFilesystemTypes() {
  static const std::set<std::string> kTypes = {"ext4", "ext2",   "ext3",    "tmpfs",
                                               "proc", "devpts", "overlay", "vfat"};
  return kTypes;
}

Verdict UnsharedSuperblocks(std::string_view host_text, std::string_view bed_text) {
  Verdict v;
  ParsedTable host = ParseMountinfo(host_text, "host mountinfo");
  ParsedTable bed = ParseMountinfo(bed_text, "bed mountinfo");
  for (const auto& e : host.errors) v.refusals.push_back(e);
  for (const auto& e : bed.errors) v.refusals.push_back(e);
  if (host.lines.empty()) {
    v.refusals.push_back("the host's mount table is empty: nothing to compare the bed with");
  }
  bool has_root = false;
  for (const auto& m : bed.lines) has_root = has_root || m.mount_point == "/";
  if (!has_root) v.refusals.push_back("the bed's mount table shows no root mount");

  auto host_devs = HostDevices(host);
  std::set<std::string> whole;  // devices the bed shows mounted with root "/"
  for (const auto& m : bed.lines) {
    if (m.root == "/") whole.insert(m.Device());
  }
  for (const auto& m : bed.lines) {
    auto h = host_devs.find(m.Device());
    if (h != host_devs.end()) {
      v.refusals.push_back(Describe(m) + ": device " + m.Device() + " is the host's " +
                           Join(h->second));
    }
    if (!BedFilesystemTypes().contains(m.fs_type)) {
      v.refusals.push_back(Describe(m) + ": type " + m.fs_type +
                           " is not one the bed creates (it can only come from the host)");
    }
    if (m.root != "/" && !whole.contains(m.Device())) {
      v.refusals.push_back(Describe(m) +
                           ": a sub-directory of a filesystem the bed does not mount "
                           "whole (a bind from outside the bed)");
    }
    if (LooksLikeOldRoot(m.mount_point)) {
      v.refusals.push_back(Describe(m) + ": the old root is still attached");
    }
    v.superblocks.emplace(m.Device(), m.fs_type + " on " + m.mount_point);
  }
  return v;
}

void CheckObserved(std::string_view host_text, std::string_view bed_text,
                   const std::vector<Observed>& observed, Verdict& verdict) {
  ParsedTable host = ParseMountinfo(host_text, "host mountinfo");
  ParsedTable bed = ParseMountinfo(bed_text, "bed mountinfo");
  auto host_devs = HostDevices(host);
  std::set<std::string> bed_devs;
  for (const auto& m : bed.lines) bed_devs.insert(m.Device());
  for (const auto& o : observed) {
    std::string dev = std::to_string(major(o.dev)) + ":" + std::to_string(minor(o.dev));
    auto h = host_devs.find(dev);
    if (h != host_devs.end()) {
      verdict.refusals.push_back(o.path + ": stat shows device " + dev + ", the host's " +
                                 Join(h->second));
    } else if (!bed_devs.contains(dev)) {
      verdict.refusals.push_back(o.path + ": stat shows device " + dev +
                                 ", which no mount line in the bed shows");
    }
  }
}

}  // namespace bedguard
