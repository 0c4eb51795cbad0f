#include "hashdb/classify.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace hashdb {

namespace {

constexpr std::uint16_t kEtExec = 2;
constexpr std::uint16_t kEtDyn = 3;
constexpr std::uint32_t kPtInterp = 3;
constexpr std::size_t kElf32HeaderSize = 52;
constexpr std::size_t kElf64HeaderSize = 64;
constexpr std::size_t kElf32PhdrSize = 32;
constexpr std::size_t kElf64PhdrSize = 56;

constexpr std::array<std::string_view, 22> kSuffixes = {
    ".py",  ".pyc", ".pyo",  ".pyw", ".pth", ".pl",  ".pm",  ".ph",  ".sh", ".bash", ".zsh",
    ".ksh", ".csh", ".tcsh", ".rb",  ".lua", ".php", ".tcl", ".awk", ".js", ".mjs",  ".cjs"};

struct ElfHeader {
  bool is64 = false;
  bool little_endian = true;
  std::uint16_t type = 0;
  std::uint64_t phoff = 0;
  std::uint16_t phentsize = 0;
  std::uint16_t phnum = 0;
};

std::uint64_t Load(const std::uint8_t* p, std::size_t n, bool little_endian) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t shift = little_endian ? i : (n - 1 - i);
    v |= static_cast<std::uint64_t>(p[i]) << (8 * shift);
  }
  return v;
}

// Parses the ELF identification and the fields we need; nullopt if head is not an ELF header
// of a known class and byte order (then the file is not treated as ELF at all).
std::optional<ElfHeader> ParseElfHeader(std::span<const std::uint8_t> head) {
  if (head.size() < 16) return std::nullopt;
  if (head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') return std::nullopt;
  ElfHeader h;
  if (head[4] == 1) {
    h.is64 = false;
  } else if (head[4] == 2) {
    h.is64 = true;
  } else {
    return std::nullopt;
  }
  if (head[5] == 1) {
    h.little_endian = true;
  } else if (head[5] == 2) {
    h.little_endian = false;
  } else {
    return std::nullopt;
  }
  const std::size_t header_size = h.is64 ? kElf64HeaderSize : kElf32HeaderSize;
  if (head.size() < header_size) return std::nullopt;
  const std::uint8_t* p = head.data();
  const bool le = h.little_endian;
  h.type = static_cast<std::uint16_t>(Load(p + 16, 2, le));
  if (h.is64) {
    h.phoff = Load(p + 0x20, 8, le);
    h.phentsize = static_cast<std::uint16_t>(Load(p + 0x36, 2, le));
    h.phnum = static_cast<std::uint16_t>(Load(p + 0x38, 2, le));
  } else {
    h.phoff = Load(p + 0x1c, 4, le);
    h.phentsize = static_cast<std::uint16_t>(Load(p + 0x2a, 2, le));
    h.phnum = static_cast<std::uint16_t>(Load(p + 0x2c, 2, le));
  }
  return h;
}

// Size in bytes of the program header table, or 0 if it is malformed (wrong entry size, empty,
// or larger than the kernel accepts).
std::uint64_t ProgramHeaderBytes(const ElfHeader& h) {
  const std::size_t entry = h.is64 ? kElf64PhdrSize : kElf32PhdrSize;
  if (h.phentsize != entry || h.phnum == 0) return 0;
  const std::uint64_t bytes = static_cast<std::uint64_t>(h.phnum) * entry;
  return bytes <= kMaxElfProgramHeaderBytes ? bytes : 0;
}

// True if the range [phoff, phoff + bytes) lies within [0, size).
bool TableWithin(const ElfHeader& h, std::uint64_t bytes, std::uint64_t size) {
  return bytes != 0 && h.phoff <= size && size - h.phoff >= bytes;
}

// table: whole program header entries. True if one of them is PT_INTERP.
bool HasInterp(std::span<const std::uint8_t> table, const ElfHeader& h) {
  const std::size_t entry = h.phentsize;
  for (std::size_t off = 0; off + entry <= table.size(); off += entry) {
    if (Load(table.data() + off, 4, h.little_endian) == kPtInterp) return true;
  }
  return false;
}

Kind ElfKind(const ElfHeader& h, bool has_interp) {
  if (h.type == kEtExec) return Kind::kElfExecutable;
  return has_interp ? Kind::kElfExecutable : Kind::kElfSharedObject;
}

std::optional<Kind> NonElfKind(std::span<const std::uint8_t> head, std::uint32_t mode,
                               std::string_view name) {
  if (head.size() >= 2 && head[0] == '#' && head[1] == '!') return Kind::kScript;
  if (HasScriptSuffix(name)) return Kind::kScript;
  if ((mode & 0111) != 0) return Kind::kOtherExecutable;
  return std::nullopt;
}

// pread until count bytes or end of file; returns bytes read or -1 (errno set).
ssize_t PreadFull(int fd, std::uint8_t* buf, std::size_t count, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd, buf + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

std::span<const std::string_view> ScriptSuffixes() { return kSuffixes; }

bool HasScriptSuffix(std::string_view name) {
  for (std::string_view suffix : kSuffixes) {
    if (name.size() > suffix.size() && name.ends_with(suffix) &&
        name[name.size() - suffix.size() - 1] != '/') {
      return true;
    }
  }
  return false;
}

std::optional<Kind> ClassifyBytes(std::span<const std::uint8_t> head, std::uint32_t mode,
                                  std::string_view name) {
  if (head.size() > kClassifyHeadSize) head = head.first(kClassifyHeadSize);
  if (std::optional<ElfHeader> h = ParseElfHeader(head)) {
    if (h->type == kEtExec) return Kind::kElfExecutable;
    if (h->type == kEtDyn) {
      const std::uint64_t bytes = ProgramHeaderBytes(*h);
      if (!TableWithin(*h, bytes, head.size())) return ElfKind(*h, false);
      return ElfKind(*h, HasInterp(head.subspan(h->phoff, bytes), *h));
    }
  }
  return NonElfKind(head, mode, name);
}

Result<std::optional<Kind>> ClassifyFd(int fd, std::uint64_t file_size, std::uint32_t mode,
                                       std::string_view name) {
  std::array<std::uint8_t, kClassifyHeadSize> buffer;
  ssize_t n = PreadFull(fd, buffer.data(), buffer.size(), 0);
  if (n < 0) return ErrnoError("read");
  std::span<const std::uint8_t> head(buffer.data(), static_cast<std::size_t>(n));
  std::optional<ElfHeader> h = ParseElfHeader(head);
  if (!h || h->type != kEtDyn) return ClassifyBytes(head, mode, name);
  const std::uint64_t bytes = ProgramHeaderBytes(*h);
  if (TableWithin(*h, bytes, head.size())) return ClassifyBytes(head, mode, name);
  // The table lies beyond the first bytes: read it in whole-entry chunks through the same
  // buffer. The file may be shorter than file_size claims; a short read ends the table.
  const std::uint64_t size = std::max<std::uint64_t>(file_size, head.size());
  if (!TableWithin(*h, bytes, size)) return std::optional<Kind>(ElfKind(*h, false));
  const std::size_t chunk = (buffer.size() / h->phentsize) * h->phentsize;
  for (std::uint64_t done = 0; done < bytes;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, bytes - done));
    ssize_t got = PreadFull(fd, buffer.data(), want, h->phoff + done);
    if (got < 0) return ErrnoError("read");
    std::span<const std::uint8_t> part(buffer.data(), static_cast<std::size_t>(got));
    if (HasInterp(part, *h)) return std::optional<Kind>(Kind::kElfExecutable);
    if (static_cast<std::size_t>(got) < want) break;
    done += want;
  }
  return std::optional<Kind>(ElfKind(*h, false));
}

}  // namespace hashdb
