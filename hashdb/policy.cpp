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
  // Version 2.
  kTagWatch = 7,
  kTagRestrictUserNamespaces = 8,
  kTagDenyUserWritable = 9,
  kTagTrustedOwners = 10,
};
constexpr std::uint16_t kLastTagV1 = kTagInterpreters;
constexpr std::uint16_t kLastTagV2 = kTagTrustedOwners;
constexpr std::size_t kMaxTagValue = 0xffff;

std::uint16_t LastTag(std::uint16_t version) {
  return version == format::kVersion1 ? kLastTagV1 : kLastTagV2;
}

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

std::vector<std::uint8_t> NulTerminated(const std::vector<std::string>& items) {
  std::vector<std::uint8_t> bytes;
  for (const auto& s : items) {
    bytes.insert(bytes.end(), s.begin(), s.end());
    bytes.push_back(0);
  }
  return bytes;
}

std::vector<std::uint8_t> OwnerBytes(const std::vector<std::uint32_t>& owners) {
  std::vector<std::uint8_t> bytes(owners.size() * 4);
  for (std::size_t i = 0; i < owners.size(); ++i) format::StoreU32(bytes.data() + 4 * i, owners[i]);
  return bytes;
}

Error Bad(const std::string& what) { return MakeError(ErrorCode::kFormat, "policy: " + what); }

std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

// The checks of each list, shared by ParsePolicy (on the bytes read) and ValidatePolicy (on
// what is about to be written).
Status CheckInterpreters(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (name.empty() || name.size() > kMaxInterpreterName || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return Bad("bad interpreter name " + Quoted(name) + " (1 to 255 bytes, no '/' and no NUL)");
    }
    if (!seen.insert(name).second) return Bad("duplicate interpreter " + Quoted(name));
  }
  if (names.size() > kMaxInterpreters) {
    return Bad("too many interpreters (" + std::to_string(names.size()) + ", at most 64)");
  }
  return {};
}

Status CheckWatch(const std::vector<std::string>& paths) {
  std::set<std::string> seen;
  for (const auto& path : paths) {
    if (!IsCanonicalAbsolutePath(path)) {
      return Bad("watch path " + Quoted(path) +
                 " is not a canonical absolute path (no empty, '.' or '..' component, no "
                 "trailing '/', at most 4096 bytes)");
    }
    if (!seen.insert(path).second) return Bad("duplicate watch path " + Quoted(path));
  }
  if (paths.size() > kMaxWatchPaths) {
    return Bad("too many watch paths (" + std::to_string(paths.size()) + ", at most 64)");
  }
  return {};
}

Status CheckOwners(const std::vector<std::uint32_t>& owners) {
  for (std::size_t i = 0; i < owners.size(); ++i) {
    if (owners[i] == 0) return Bad("trusted owner 0: root is always trusted, do not list it");
    if (owners[i] == UINT32_MAX) return Bad("trusted owner 4294967295 is not a valid uid");
    if (i > 0 && owners[i] <= owners[i - 1]) {
      return Bad("trusted owners are not in strictly increasing order at " +
                 std::to_string(owners[i]));
    }
  }
  if (owners.size() > kMaxTrustedOwners) {
    return Bad("too many trusted owners (" + std::to_string(owners.size()) + ", at most 64)");
  }
  return {};
}

// Splits a value of NUL-terminated items.
Result<std::vector<std::string>> SplitNulTerminated(std::span<const std::uint8_t> value,
                                                    const std::string& what) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != 0) continue;
    items.emplace_back(reinterpret_cast<const char*>(value.data() + start), i - start);
    start = i + 1;
  }
  if (start != value.size()) return Bad(what + " list not NUL-terminated");
  return items;
}

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

bool IsCanonicalAbsolutePath(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > format::kMaxPathLength) return false;
  if (path == "/") return true;
  std::size_t start = 1;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool IsInterpreterName(std::string_view name, const std::vector<std::string>& names) {
  if (name.empty()) return false;
  for (const std::string& n : names) {
    if (n.empty() || name.size() < n.size() || name.substr(0, n.size()) != n) continue;
    bool version = true;
    for (char c : name.substr(n.size())) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-')) {
        version = false;
        break;
      }
    }
    if (version) return true;
  }
  return false;
}

bool FitsVersion1(const Policy& policy) {
  const Policy defaults;
  return policy.watch == defaults.watch &&
         policy.restrict_user_namespaces == defaults.restrict_user_namespaces &&
         policy.deny_user_writable == defaults.deny_user_writable &&
         policy.trusted_owners == defaults.trusted_owners;
}

Status ValidatePolicy(const Policy& policy) {
  if (policy.mode != Mode::kEnforce && policy.mode != Mode::kAudit) return Bad("unknown mode");
  HASHDB_TRY(CheckInterpreters(policy.interpreters));
  HASHDB_TRY(CheckWatch(policy.watch));
  HASHDB_TRY(CheckOwners(policy.trusted_owners));
  if (NulTerminated(policy.interpreters).size() > kMaxTagValue) {
    return Bad("interpreter names take more than the 65535 bytes a tag can hold");
  }
  if (NulTerminated(policy.watch).size() > kMaxTagValue) {
    return Bad("watch paths take more than the 65535 bytes a tag can hold");
  }
  if (SerializePolicy(policy).size() > kMaxPolicySize) {
    return Bad("the policy section would exceed 64 KiB");
  }
  return {};
}

std::vector<std::uint8_t> SerializePolicy(const Policy& policy, std::uint16_t version) {
  std::vector<std::uint8_t> out;
  PutByte(out, kTagMode, static_cast<std::uint8_t>(policy.mode));
  PutByte(out, kTagCoverSharedObjects, policy.cover_shared_objects ? 1 : 0);
  PutByte(out, kTagCoverScripts, policy.cover_scripts ? 1 : 0);
  PutByte(out, kTagMemfdNoexec, policy.memfd_noexec ? 1 : 0);
  PutByte(out, kTagDenyUntrustedFs, policy.deny_untrusted_fs ? 1 : 0);
  Put(out, kTagInterpreters, NulTerminated(policy.interpreters));
  if (version == format::kVersion1) return out;
  Put(out, kTagWatch, NulTerminated(policy.watch));
  PutByte(out, kTagRestrictUserNamespaces, policy.restrict_user_namespaces ? 1 : 0);
  PutByte(out, kTagDenyUserWritable, policy.deny_user_writable ? 1 : 0);
  Put(out, kTagTrustedOwners, OwnerBytes(policy.trusted_owners));
  return out;
}

Result<Policy> ParsePolicy(std::span<const std::uint8_t> bytes, std::uint16_t version) {
  Policy policy;
  policy.interpreters.clear();
  const std::uint16_t last_tag = LastTag(version);
  std::size_t pos = 0;
  std::uint16_t expected = 1;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < 4) return Bad("truncated entry at byte " + std::to_string(pos));
    std::uint16_t tag = format::LoadU16(bytes.data() + pos);
    std::uint16_t len = format::LoadU16(bytes.data() + pos + 2);
    if (tag > last_tag) {
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
    switch (tag) {
      case kTagInterpreters: {
        // Version 1's messages are kept as they were (its reader is pinned by a test).
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
        continue;
      }
      case kTagWatch: {
        auto paths = SplitNulTerminated(value, "watch");
        if (!paths.ok()) return paths.error();
        if (paths->size() > kMaxWatchPaths) return Bad("too many watch paths");
        HASHDB_TRY(CheckWatch(*paths));
        policy.watch = std::move(*paths);
        continue;
      }
      case kTagTrustedOwners: {
        if (len % 4 != 0) {
          return Bad("tag 10 (trusted owners) length " + std::to_string(len) +
                     " is not a multiple of 4");
        }
        std::vector<std::uint32_t> owners(len / 4);
        for (std::size_t i = 0; i < owners.size(); ++i) {
          owners[i] = format::LoadU32(value.data() + 4 * i);
        }
        HASHDB_TRY(CheckOwners(owners));
        policy.trusted_owners = std::move(owners);
        continue;
      }
      default:
        break;
    }
    if (len != 1 || value[0] > 1) {
      return Bad("tag " + std::to_string(tag) + " must be one byte 0 or 1");
    }
    const bool on = value[0] == 1;
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
      case kTagRestrictUserNamespaces:
        policy.restrict_user_namespaces = on;
        break;
      case kTagDenyUserWritable:
        policy.deny_user_writable = on;
        break;
      default:
        break;
    }
  }
  if (expected != last_tag + 1) {
    return Bad("missing tag " + std::to_string(expected));
  }
  return policy;
}

}  // namespace hashdb
