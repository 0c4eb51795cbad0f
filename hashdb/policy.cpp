#include "hashdb/policy.h"

#include <set>

#include "hashdb/format.h"

namespace hashdb {

namespace {
// Tags of the policy section; values are part of the on-disk format (docs/database-format.md).
enum Tag : std::uint16_t {
  kTagMode = 1,
  kTagCoverSharedObjects = 2,
  kTagCoverScripts = 3,
  kTagMemfdNoexec = 4,
  kTagDenyUntrustedFs = 5,
  kTagInterpreters = 6,
};
constexpr std::uint16_t kLastTag = kTagInterpreters;
constexpr std::size_t kMaxInterpreterName = 255;
constexpr std::size_t kMaxInterpreters = 64;

void Put(std::vector<std::uint8_t>& out, std::uint16_t tag, std::span<const std::uint8_t> value) {
  std::size_t at = out.size();
  out.resize(at + 4 + value.size());
  format::StoreU16(out.data() + at, tag);
  format::StoreU16(out.data() + at + 2, static_cast<std::uint16_t>(value.size()));
  std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 4));
}

void PutByte(std::vector<std::uint8_t>& out, std::uint16_t tag, std::uint8_t v) {
  Put(out, tag, std::span<const std::uint8_t>(&v, 1));
}

Error Bad(const std::string& what) { return MakeError(ErrorCode::kFormat, "policy: " + what); }
}  // namespace

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kEnforce:
      return "enforce";
    case Mode::kAudit:
      return "audit";
  }
  return "unknown";
}

std::vector<std::string> Policy::DefaultInterpreters() {
  return {"sh",     "bash",    "dash", "ash",  "zsh",  "ksh",   "busybox",
          "python", "python3", "perl", "ruby", "lua",  "php",   "node",
          "tclsh",  "wish",    "awk",  "gawk", "mawk", "expect"};
}

std::vector<std::uint8_t> SerializePolicy(const Policy& policy) {
  std::vector<std::uint8_t> out;
  PutByte(out, kTagMode, static_cast<std::uint8_t>(policy.mode));
  PutByte(out, kTagCoverSharedObjects, policy.cover_shared_objects ? 1 : 0);
  PutByte(out, kTagCoverScripts, policy.cover_scripts ? 1 : 0);
  PutByte(out, kTagMemfdNoexec, policy.memfd_noexec ? 1 : 0);
  PutByte(out, kTagDenyUntrustedFs, policy.deny_untrusted_fs ? 1 : 0);
  std::vector<std::uint8_t> names;
  for (const auto& n : policy.interpreters) {
    names.insert(names.end(), n.begin(), n.end());
    names.push_back(0);
  }
  Put(out, kTagInterpreters, names);
  return out;
}

Result<Policy> ParsePolicy(std::span<const std::uint8_t> bytes) {
  Policy policy;
  policy.interpreters.clear();
  std::size_t pos = 0;
  std::uint16_t expected = 1;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) return Bad("truncated entry at byte " + std::to_string(pos));
    std::uint16_t tag = format::LoadU16(bytes.data() + pos);
    std::uint16_t len = format::LoadU16(bytes.data() + pos + 2);
    if (tag > kLastTag) {
      return Bad("unknown tag " + std::to_string(tag) + " at byte " + std::to_string(pos) +
                 " (written by a newer lockd?)");
    }
    if (tag != expected) {
      return Bad("tag " + std::to_string(tag) + " out of order at byte " + std::to_string(pos) +
                 " (expected tag " + std::to_string(expected) + ")");
    }
    pos += 4;
    if (bytes.size() - pos < len) return Bad("tag " + std::to_string(tag) + " overruns section");
    std::span<const std::uint8_t> value = bytes.subspan(pos, len);
    pos += len;
    ++expected;
    if (tag != kTagInterpreters) {
      if (len != 1 || value[0] > 1) {
        return Bad("tag " + std::to_string(tag) + " must be one byte 0 or 1");
      }
      bool on = value[0] == 1;
      switch (tag) {
        case kTagMode:
          policy.mode = on ? Mode::kAudit : Mode::kEnforce;
          break;
        case kTagCoverSharedObjects:
          policy.cover_shared_objects = on;
          break;
        case kTagCoverScripts:
          policy.cover_scripts = on;
          break;
        case kTagMemfdNoexec:
          policy.memfd_noexec = on;
          break;
        case kTagDenyUntrustedFs:
          policy.deny_untrusted_fs = on;
          break;
        default:
          break;
      }
      continue;
    }
    std::set<std::string> seen;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] != 0) continue;
      std::string name(reinterpret_cast<const char*>(value.data() + start), i - start);
      if (name.empty() || name.size() > kMaxInterpreterName ||
          name.find('/') != std::string::npos) {
        return Bad("bad interpreter name at byte " + std::to_string(start));
      }
      if (!seen.insert(name).second) return Bad("duplicate interpreter '" + name + "'");
      policy.interpreters.push_back(std::move(name));
      if (policy.interpreters.size() > kMaxInterpreters) return Bad("too many interpreters");
      start = i + 1;
    }
    if (start != value.size()) return Bad("interpreter list not NUL-terminated");
  }
  if (expected != kLastTag + 1) {
    return Bad("missing tag " + std::to_string(expected));
  }
  return policy;
}

}  // namespace hashdb
