#include "lockd/quarantine/evidence.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>

#include "audit/json_escape.h"
#include "audit/json_parse.h"
#include "audit/record.h"

namespace lockd::quarantine {

namespace {

using audit::JsonBytesMember;
using audit::JsonString;
using audit::JsonValue;

std::int64_t IntField(const JsonValue& v, std::string_view key) {
  const JsonValue* m = v.Find(key);
  if (m == nullptr) return -1;
  if (m->type == JsonValue::Type::kUint) return static_cast<std::int64_t>(m->uint_value);
  if (m->type == JsonValue::Type::kInt) return m->int_value;
  return -1;
}

std::string StringField(const JsonValue& v, std::string_view key) {
  const JsonValue* m = v.Find(key);
  return m != nullptr && m->type == JsonValue::Type::kString ? m->string : std::string();
}

std::string Octal(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", mode & 07777u);
  return buf;
}

std::string FileType(std::uint32_t mode) { return S_ISREG(mode) ? "regular" : "other"; }

std::string NsTime(std::int64_t ns) {
  return audit::FormatTime(audit::Clock::time_point(
      std::chrono::duration_cast<audit::Clock::duration>(std::chrono::nanoseconds(ns))));
}

}  // namespace

std::optional<DenyRecordRef> MatchDenyRecord(std::string_view line, std::string_view path,
                                             std::string_view digest_hex) {
  // Cheap test first: most of a log is not deny records.
  if (line.find("\"type\":\"deny\"") == std::string_view::npos &&
      line.find("\"type\":\"would_deny\"") == std::string_view::npos) {
    return std::nullopt;
  }
  auto parsed = audit::ParseJson(line);
  if (!parsed.ok() || parsed->type != JsonValue::Type::kObject) return std::nullopt;
  const JsonValue& v = *parsed;
  DenyRecordRef r;
  r.type = StringField(v, "type");
  if (r.type != "deny" && r.type != "would_deny") return std::nullopt;
  r.path = audit::FieldBytes(v, "path").value_or("");
  r.sha256 = StringField(v, "sha256");
  r.by_path = !path.empty() && r.path == path;
  r.by_digest = !digest_hex.empty() && r.sha256 == digest_hex;
  if (!r.by_path && !r.by_digest) return std::nullopt;
  const JsonValue* seq = v.Find("seq");
  r.seq = seq != nullptr && seq->type == JsonValue::Type::kUint ? seq->uint_value : 0;
  r.time = StringField(v, "time");
  r.reason = StringField(v, "reason");
  r.exe = audit::FieldBytes(v, "exe").value_or("");
  r.pid = IntField(v, "pid");
  r.uid = IntField(v, "uid");
  return r;
}

void DenyRecordCollector::AddLine(std::string_view line) {
  auto r = MatchDenyRecord(line, path_, digest_hex_);
  if (!r) return;
  ++total_;
  const auto t = audit::ParseTime(r->time);
  if (t) {
    if (first_seen_.empty() || *t < *audit::ParseTime(first_seen_)) first_seen_ = r->time;
    if (last_seen_.empty() || *t > *audit::ParseTime(last_seen_)) last_seen_ = r->time;
  }
  if (records_.size() < kMaxListedRecords) records_.push_back(std::move(*r));
}

std::string ManifestJson(const Manifest& m) {
  const SampleFacts& s = m.sample;
  std::string out = "{\"format\":\"lockd-quarantine-v1\"";
  out += "," + JsonBytesMember("path", s.path);
  out += ",\"sha256\":" + JsonString(s.sha256);
  out += ",\"member\":" + JsonString(m.member);
  out += ",\"stat\":{\"type\":" + JsonString(FileType(s.mode)) +
         ",\"mode\":" + JsonString(Octal(s.mode)) + ",\"uid\":" + std::to_string(s.uid) +
         ",\"gid\":" + std::to_string(s.gid) + ",\"size\":" + std::to_string(s.size) +
         ",\"mtime\":" + JsonString(NsTime(s.mtime_ns)) +
         ",\"mtime_ns\":" + std::to_string(s.mtime_ns) + ",\"inode\":" + std::to_string(s.ino) +
         ",\"device\":" + std::to_string(s.dev) + "}";
  out += ",\"quarantined_at\":" + JsonString(m.quarantined_at);
  out += ",\"terminal_id\":" + JsonString(m.terminal_id);
  out += ",\"remove_requested\":" + std::string(m.remove_requested ? "true" : "false");
  out += ",\"first_seen\":" + (m.first_seen.empty() ? "null" : JsonString(m.first_seen));
  out += ",\"last_seen\":" + (m.last_seen.empty() ? "null" : JsonString(m.last_seen));
  out += ",\"audit_logs\":[";
  for (std::size_t i = 0; i < m.audit_logs.size(); ++i) {
    out += (i ? "," : "") + JsonString(m.audit_logs[i]);
  }
  out += "]";
  if (!m.audit_error.empty()) out += "," + JsonBytesMember("audit_error", m.audit_error);
  out += ",\"deny_records_total\":" + std::to_string(m.deny_records_total);
  out += ",\"deny_records\":[";
  for (std::size_t i = 0; i < m.deny_records.size(); ++i) {
    const DenyRecordRef& r = m.deny_records[i];
    out += std::string(i ? "," : "") + "{\"seq\":" + std::to_string(r.seq) +
           ",\"time\":" + JsonString(r.time) + ",\"type\":" + JsonString(r.type) +
           ",\"reason\":" + JsonString(r.reason) + "," + JsonBytesMember("path", r.path) +
           ",\"sha256\":" + (r.sha256.empty() ? "null" : JsonString(r.sha256)) + "," +
           JsonBytesMember("exe", r.exe) + ",\"pid\":" + std::to_string(r.pid) +
           ",\"uid\":" + std::to_string(r.uid) + ",\"matched_by\":" +
           JsonString(r.by_path && r.by_digest ? "path,sha256"
                      : r.by_path              ? "path"
                                               : "sha256") +
           "}";
  }
  out += "]}\n";
  return out;
}

}  // namespace lockd::quarantine
