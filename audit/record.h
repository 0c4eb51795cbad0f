#pragma once
// Record: one audit event before it is written. The writer adds seq, prev and the line's
// framing; the record holds the type, the event time and the type-specific fields, already
// encoded as JSON (docs/audit-log.md lists the types and their fields).
//
// Field values from outsiders (paths, names, reasons) go through AddBytes, which can never
// produce a record that is split, extended or made unparseable by the data: see
// json_escape.h. Keys are chosen by our code; a key that is not [a-z0-9_]+, is one of the
// framing keys (seq, time, type, prev) or repeats an earlier key is renamed (invalid
// characters become '_', a reserved or repeated key gets a "_N" suffix), so a record is always
// valid and never has duplicate keys.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/digest.h"

namespace lockd::audit {

// A field holding bytes is capped at this many bytes (the cut lands on a UTF-8 character
// boundary); the record then carries `<key>_truncated` with the original length. PATH_MAX is
// 4096; 2048 keeps a record with two long paths well under what syslog daemons accept.
inline constexpr std::size_t kMaxFieldBytes = 2048;

// Longest line the writer produces and the verifier accepts (without the newline).
inline constexpr std::size_t kMaxLineBytes = 64 * 1024;

using Clock = std::chrono::system_clock;

class Record {
 public:
  // The event time is now (CLOCK_REALTIME), unless set with set_time. type must be
  // [a-z_]+ (our code's constant).
  explicit Record(std::string_view type);

  // Bytes from anywhere (file names, command lines). Written as `"key":"text"` where text is
  // the bytes when they are valid UTF-8; otherwise each invalid byte shows as U+FFFD and
  // `"key_hex":"..."` holds the exact bytes in lower-case hex. Over kMaxFieldBytes:
  // truncated, plus `"key_truncated":<original length>`.
  Record& AddBytes(std::string_view key, std::string_view bytes);
  Record& AddUint(std::string_view key, std::uint64_t value);
  Record& AddInt(std::string_view key, std::int64_t value);
  Record& AddBool(std::string_view key, bool value);
  Record& AddDigest(std::string_view key, const hashdb::Digest& digest);  // 64 hex chars

  Record& set_time(Clock::time_point t) {
    time_ = t;
    return *this;
  }
  const std::string& type() const { return type_; }
  Clock::time_point time() const { return time_; }
  // The encoded fields: empty or `,"k":v,"k2":v2` (each with a leading comma).
  const std::string& fields() const { return fields_; }

 private:
  std::string Key(std::string_view key);  // the unique, valid key to use for key

  std::string type_;
  Clock::time_point time_;
  std::string fields_;
  std::vector<std::string> keys_;
};

// RFC 3339 UTC with milliseconds: "2026-11-27T16:04:14.123Z".
std::string FormatTime(Clock::time_point t);
// Parses what FormatTime writes, also without milliseconds or as a bare date "2026-11-27"
// (midnight UTC), for years 1970..2200. nullopt otherwise.
std::optional<Clock::time_point> ParseTime(std::string_view text);

// 64 '0' characters: the prev of the first record of a new chain.
inline const std::string kGenesisPrev(64, '0');

// The exact line (no newline) for a record: {"seq":S,"time":T,"type":Y,<fields>,"prev":P}.
std::string FormatLine(std::uint64_t seq, std::string_view prev_hex, const Record& record);

// Hex SHA-256 of a line's bytes (without its newline): the next record's prev.
std::string LineHash(std::string_view line);

}  // namespace lockd::audit
