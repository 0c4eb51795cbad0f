#pragma once
// Reading the end of an audit log file: its last complete line and any torn (unterminated)
// fragment after it. Used by AuditFile to continue the chain after a restart or a crash.

#include <cstdint>
#include <optional>
#include <string>

#include "hashdb/result.h"

namespace lockd::audit {

struct LogTail {
  bool has_line = false;         // a complete (newline-terminated) line exists
  std::string line;              // its bytes, when not longer than kMaxLineBytes
  bool line_too_long = false;    // the last line is longer than kMaxLineBytes (not ours)
  std::string line_hash;         // hex SHA-256 of the last complete line
  std::uint64_t torn_bytes = 0;  // bytes after the last newline (0: the file ends cleanly)
  std::string torn_hash;         // hex SHA-256 of those bytes, when torn_bytes > 0
};

// Reads the tail of the file open on fd, whose size is `size`, with pread (the fd's offset is
// not used). Memory is bounded by kMaxLineBytes plus a fixed buffer whatever the file holds.
hashdb::Result<LogTail> ReadTail(int fd, std::uint64_t size);

// The seq of a line if it is a JSON object with an unsigned "seq" member.
std::optional<std::uint64_t> LineSeq(const std::string& line);

}  // namespace lockd::audit
