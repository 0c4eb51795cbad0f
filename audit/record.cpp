#include "audit/record.h"

#include <ctime>
#include <optional>

#include "audit/json_escape.h"
#include "hashdb/sha256.h"

namespace lockd::audit {
namespace {

bool IsKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

Record::Record(std::string_view type) : time_(Clock::now()) {
  for (char c : type) type_ += (c >= 'a' && c <= 'z') || c == '_' ? c : '_';
  if (type_.empty()) type_ = "unknown";
}

std::string Record::Key(std::string_view key) {
  std::string base;
  for (char c : key) base += IsKeyChar(c) ? c : '_';
  if (base.empty()) base = "_";
  auto taken = [this](const std::string& k) {
    if (k == "seq" || k == "time" || k == "type" || k == "prev") return true;
    for (const auto& existing : keys_) {
      if (existing == k) return true;
    }
    return false;
  };
  std::string candidate = base;
  for (int n = 2; taken(candidate); ++n) candidate = base + "_" + std::to_string(n);
  keys_.push_back(candidate);
  return candidate;
}

Record& Record::AddBytes(std::string_view key, std::string_view bytes) {
  const std::string k = Key(key);
  const std::size_t original = bytes.size();
  if (bytes.size() > kMaxFieldBytes) {
    std::size_t cut = kMaxFieldBytes;
    // Do not split a UTF-8 character: back up over continuation bytes (at most 3).
    for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(bytes[cut]) & 0xc0) == 0x80;
         ++i) {
      --cut;
    }
    bytes = bytes.substr(0, cut);
  }
  fields_ += ",\"" + k + "\":";
  if (!AppendJsonString(fields_, bytes)) {
    fields_ += ",\"" + Key(k + "_hex") + "\":\"" +
               hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) +
               "\"";
  }
  if (original != bytes.size()) {
    fields_ += ",\"" + Key(k + "_truncated") + "\":" + std::to_string(original);
  }
  return *this;
}

Record& Record::AddUint(std::string_view key, std::uint64_t value) {
  fields_ += ",\"" + Key(key) + "\":" + std::to_string(value);
  return *this;
}

Record& Record::AddInt(std::string_view key, std::int64_t value) {
  fields_ += ",\"" + Key(key) + "\":" + std::to_string(value);
  return *this;
}

Record& Record::AddBool(std::string_view key, bool value) {
  fields_ += ",\"" + Key(key) + "\":" + (value ? "true" : "false");
  return *this;
}

Record& Record::AddDigest(std::string_view key, const hashdb::Digest& digest) {
  fields_ += ",\"" + Key(key) + "\":\"" + hashdb::ToHex(digest) + "\"";
  return *this;
}

std::string FormatTime(Clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  std::int64_t total_ms = ms.count();
  std::int64_t secs = total_ms / 1000;
  std::int64_t frac = total_ms % 1000;
  if (frac < 0) frac += 1000, secs -= 1;
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];  // ample for any int year, which the compiler cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

std::optional<Clock::time_point> ParseTime(std::string_view text) {
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  std::tm tm{};
  int year, mon, day, hour = 0, min = 0, sec = 0, ms = 0;
  if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, mon) ||
      text[7] != '-' || !digits(8, 2, day)) {
    return std::nullopt;
  }
  if (text.size() > 10) {
    if (text.size() < 20 || text[10] != 'T' || !digits(11, 2, hour) || text[13] != ':' ||
        !digits(14, 2, min) || text[16] != ':' || !digits(17, 2, sec)) {
      return std::nullopt;
    }
    std::size_t pos = 19;
    if (text[pos] == '.') {
      if (!digits(pos + 1, 3, ms)) return std::nullopt;
      pos += 4;
    }
    if (pos + 1 != text.size() || text[pos] != 'Z') return std::nullopt;
  }
  // Years outside 1970..2200 are refused: system_clock (nanoseconds) cannot hold them all.
  if (year < 1970 || year > 2200 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
      min > 59 || sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t tt = timegm(&tm);
  return Clock::from_time_t(tt) + std::chrono::milliseconds(ms);
}

std::string FormatLine(std::uint64_t seq, std::string_view prev_hex, const Record& record) {
  std::string line;
  line.reserve(96 + record.fields().size() + 80);
  line += "{\"seq\":";
  line += std::to_string(seq);
  line += ",\"time\":\"";
  line += FormatTime(record.time());
  line += "\",\"type\":\"";
  line += record.type();
  line += '"';
  line += record.fields();
  line += ",\"prev\":\"";
  line += prev_hex;
  line += "\"}";
  return line;
}

std::string LineHash(std::string_view line) {
  return hashdb::ToHex(
      hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}));
}

}  // namespace lockd::audit
