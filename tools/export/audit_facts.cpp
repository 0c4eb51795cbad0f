#include "tools/export/audit_facts.h"

#include "audit/record.h"

#include <charconv>

namespace lockctl::exporttool {
namespace {

using lockd::audit::JsonValue;

MaintenanceSession& SessionFor(AuditFacts& facts, const std::string& id) {
  for (auto& s : facts.sessions) {
    if (s.session == id) return s;
  }
  facts.sessions.push_back(MaintenanceSession{});
  facts.sessions.back().session = id;
  return facts.sessions.back();
}

void ReadRecord(const JsonValue& r, std::uint64_t seq, const std::string& time,
                const std::string& type, AuditFacts& facts) {
  auto f = [&r](std::string_view key) { return FieldText(r, key); };
  if (type == "deny" || type == "would_deny" || type == "repeat") {
    if (auto b = ReadBlockEvent(r, seq, time, type)) facts.blocks.push_back(std::move(*b));
  } else if (type == "db_load" || type == "db_refused" || type == "maintenance_finish") {
    GenerationEvent g;
    g.seq = seq;
    g.time = time;
    g.type = type;
    g.generation = f("generation");
    g.message = f("message");
    if (type == "maintenance_finish") {
      g.session = f("session");
      g.token_id = f("token_id");
      g.holder = f("holder");
      g.previous_generation = f("previous_generation");
      g.db_sha256 = f("db_sha256");
      g.added = f("added");
      g.removed = f("removed");
      g.changed = f("changed");
    }
    facts.generations.push_back(g);
  } else if (type == "mode_change" || type == "trust_change" || type == "authz_refused" ||
             type == "quarantine") {
    AuthorizedAct a;
    a.seq = seq;
    a.time = time;
    a.type = type;
    a.message = f("message");
    for (const auto& [key, value] : r.object) {
      if (key == "seq" || key == "time" || key == "type" || key == "prev" || key == "message" ||
          key.ends_with("_hex")) {
        continue;
      }
      a.fields.emplace_back(key, f(key));
    }
    facts.acts.push_back(std::move(a));
  }
  if (!type.starts_with("maintenance_")) return;
  const std::string id = f("session");
  MaintenanceSession& s = SessionFor(facts, id);
  if (type == "maintenance_start") {
    s.start_seq = seq;
    s.start_time = time;
    s.start_message = f("message");
    s.token_id = f("token_id");
    s.holder = f("holder");
    s.organisation = f("organisation");
    s.key_id = f("key_id");
    s.minutes = f("minutes");
    s.ends = f("ends");
  } else if (type == "maintenance_learned") {
    s.learned.push_back(LearnedFile{seq, time, f("how"), f("path"), f("sha256"), f("kind")});
  } else if (type == "maintenance_finish" || type == "maintenance_abort" ||
             type == "maintenance_expired") {
    s.end_type = type;
    s.end_seq = seq;
    s.end_time = time;
    s.end_message = f("message");
    s.end_token_id = f("token_id");
    s.end_holder = f("holder");
    if (type == "maintenance_finish") {
      s.generation = f("generation");
      s.previous_generation = f("previous_generation");
      s.db_sha256 = f("db_sha256");
      s.added = f("added");
      s.removed = f("removed");
      s.changed = f("changed");
    }
  }
}

// A count written as a JSON number or a decimal string; nullopt otherwise.
std::optional<std::uint64_t> CountOf(const std::string& text) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

void Earliest(std::string& slot, const std::string& t) {
  if (!t.empty() && (slot.empty() || t < slot)) slot = t;
}
void Latest(std::string& slot, const std::string& t) {
  if (!t.empty() && t > slot) slot = t;
}

}  // namespace

std::optional<BlockEvent> ReadBlockEvent(const JsonValue& r, std::uint64_t seq,
                                         const std::string& time, const std::string& type) {
  if (type != "deny" && type != "would_deny" && type != "repeat") return std::nullopt;
  auto f = [&r](std::string_view key) { return FieldText(r, key); };
  BlockEvent b;
  b.seq = seq;
  b.time = time;
  b.type = type;
  b.first_time = time;
  b.last_time = time;
  if (type == "repeat") {
    b.type = f("of");
    if (b.type != "deny" && b.type != "would_deny") return std::nullopt;  // not of a block
    b.repeat = true;
    b.count = CountOf(f("count")).value_or(0);
    // The span of the counted denials; the record's own time when a bound is missing.
    b.first_time = f("first_time");
    b.last_time = f("last_time");
    if (b.first_time.empty()) b.first_time = time;
    if (b.last_time.empty()) b.last_time = time;
  }
  b.reason = f("reason");
  b.mode = f("mode");
  b.pid = type == "repeat" ? f("last_pid") : f("pid");
  b.uid = f("uid");
  b.exe = f("exe");
  b.path = f("path");
  b.path_truncated = r.Find("path_truncated") != nullptr;
  b.sha256 = f("sha256");
  b.generation = f("generation");
  b.cached = f("cached");
  return b;
}

void BlockTally::Add(const BlockEvent& b) {
  (b.type == "deny" ? deny : would_deny) += b.count;
  if (b.repeat) {
    ++repeat_records;
    in_repeats += b.count;
  }
  if (b.count == 0) return;  // a repeat of nothing spans nothing
  Earliest(first_time, b.first_time.empty() ? b.time : b.first_time);
  Latest(last_time, b.last_time.empty() ? b.time : b.last_time);
}

std::string FieldText(const JsonValue& record, std::string_view key) {
  const JsonValue* v = record.Find(key);
  if (!v) return "";
  switch (v->type) {
    case JsonValue::Type::kString:
      return lockd::audit::FieldBytes(record, key).value_or(v->string);
    case JsonValue::Type::kUint:
      return std::to_string(v->uint_value);
    case JsonValue::Type::kInt:
      return std::to_string(v->int_value);
    case JsonValue::Type::kBool:
      return v->boolean ? "true" : "false";
    default:
      return "";
  }
}

AuditFacts ReadAuditFacts(const std::vector<lockd::audit::LogInput>& files,
                          std::optional<std::chrono::system_clock::time_point> since) {
  AuditFacts facts;
  for (const auto& file : files) {
    std::string_view data = file.bytes;
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const std::string_view line = data.substr(0, nl);
      data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
      auto json = lockd::audit::ParseJson(line);
      const JsonValue* seq = json ? json->Find("seq") : nullptr;
      const JsonValue* time = json ? json->Find("time") : nullptr;
      const JsonValue* type = json ? json->Find("type") : nullptr;
      if (!seq || !time || !type || seq->type != JsonValue::Type::kUint ||
          time->type != JsonValue::Type::kString || type->type != JsonValue::Type::kString) {
        ++facts.unreadable_lines;
        continue;
      }
      ++facts.records;
      ++facts.records_by_type[type->string];
      if (facts.first_time.empty()) facts.first_time = time->string;
      facts.last_time = time->string;
      if (since) {
        const auto t = lockd::audit::ParseTime(time->string);
        if (!t || *t < *since) continue;
      }
      ReadRecord(*json, seq->uint_value, time->string, type->string, facts);
    }
  }
  return facts;
}

}  // namespace lockctl::exporttool
