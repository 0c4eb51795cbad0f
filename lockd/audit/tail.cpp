#include "lockd/audit/tail.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "audit/json_parse.h"
#include "audit/record.h"
#include "hashdb/sha256.h"

namespace lockd::audit {
namespace {

using hashdb::Result;

constexpr std::size_t kChunk = 64 * 1024;

hashdb::Status PreadFull(int fd, char* buf, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("read");
    }
    if (got == 0) return hashdb::MakeError(hashdb::ErrorCode::kIo, "file shrank while read");
    buf += got, n -= static_cast<std::size_t>(got), offset += static_cast<std::uint64_t>(got);
  }
  return {};
}

// Offset of the last '\n' in [0, end), or -1.
Result<std::int64_t> LastNewline(int fd, std::uint64_t end) {
  std::vector<char> buf(kChunk);
  while (end > 0) {
    const std::uint64_t begin = end > kChunk ? end - kChunk : 0;
    const std::size_t n = static_cast<std::size_t>(end - begin);
    HASHDB_TRY(PreadFull(fd, buf.data(), n, begin));
    for (std::size_t i = n; i-- > 0;) {
      if (buf[i] == '\n') return static_cast<std::int64_t>(begin + i);
    }
    end = begin;
  }
  return static_cast<std::int64_t>(-1);
}

Result<std::string> HashRange(int fd, std::uint64_t begin, std::uint64_t end) {
  hashdb::Sha256Hasher hasher;
  std::vector<char> buf(kChunk);
  while (begin < end) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, end - begin));
    HASHDB_TRY(PreadFull(fd, buf.data(), n, begin));
    hasher.Update({reinterpret_cast<const std::uint8_t*>(buf.data()), n});
    begin += n;
  }
  return hashdb::ToHex(hasher.Finish());
}

}  // namespace

Result<LogTail> ReadTail(int fd, std::uint64_t size) {
  LogTail tail;
  if (size == 0) return tail;
  auto last_nl = LastNewline(fd, size);
  if (!last_nl) return last_nl.error();
  const std::uint64_t line_end = *last_nl < 0 ? 0 : static_cast<std::uint64_t>(*last_nl);
  if (*last_nl + 1 < static_cast<std::int64_t>(size)) {
    const std::uint64_t torn_begin = static_cast<std::uint64_t>(*last_nl + 1);
    tail.torn_bytes = size - torn_begin;
    auto h = HashRange(fd, torn_begin, size);
    if (!h) return h.error();
    tail.torn_hash = *h;
  }
  if (*last_nl < 0) return tail;
  auto prev_nl = LastNewline(fd, line_end);
  if (!prev_nl) return prev_nl.error();
  const std::uint64_t line_begin = static_cast<std::uint64_t>(*prev_nl + 1);
  tail.has_line = true;
  if (line_end - line_begin <= kMaxLineBytes) {
    tail.line.resize(static_cast<std::size_t>(line_end - line_begin));
    HASHDB_TRY(PreadFull(fd, tail.line.data(), tail.line.size(), line_begin));
    tail.line_hash = LineHash(tail.line);
  } else {
    tail.line_too_long = true;
    auto h = HashRange(fd, line_begin, line_end);
    if (!h) return h.error();
    tail.line_hash = *h;
  }
  return tail;
}

std::optional<std::uint64_t> LineSeq(const std::string& line) {
  auto json = ParseJson(line);
  if (!json || json->type != JsonValue::Type::kObject) return std::nullopt;
  const JsonValue* seq = json->Find("seq");
  if (seq == nullptr || seq->type != JsonValue::Type::kUint) return std::nullopt;
  return seq->uint_value;
}

}  // namespace lockd::audit
