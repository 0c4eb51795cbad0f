#include "tools/maintenance/status.h"

#include "audit/json_parse.h"

namespace lockctl {

namespace {

using lockd::audit::JsonValue;

hashdb::Error Missing(const std::string& source, std::string_view what) {
  return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                           source + ": maintenance status lacks " + std::string(what));
}

hashdb::Result<std::string> String(const JsonValue& v, std::string_view key,
                                   const std::string& source, bool required) {
  const JsonValue* m = v.Find(key);
  if (m == nullptr || m->type == JsonValue::Type::kNull) {
    if (required) return Missing(source, "\"" + std::string(key) + "\" (a string)");
    return std::string();
  }
  if (m->type != JsonValue::Type::kString)
    return Missing(source, "\"" + std::string(key) + "\" as a string");
  return m->string;
}

hashdb::Result<std::vector<std::string>> Strings(const JsonValue& v, std::string_view key,
                                                 const std::string& source) {
  const JsonValue* m = v.Find(key);
  std::vector<std::string> out;
  if (m == nullptr || m->type == JsonValue::Type::kNull) return out;
  if (m->type != JsonValue::Type::kArray)
    return Missing(source, "\"" + std::string(key) + "\" as a list");
  for (const JsonValue& e : m->array) {
    if (e.type != JsonValue::Type::kString) {
      return Missing(source, "\"" + std::string(key) + "\" as a list of strings");
    }
    out.push_back(e.string);
  }
  return out;
}

std::uint64_t Uint(const JsonValue* m) {
  return m != nullptr && m->type == JsonValue::Type::kUint ? m->uint_value : 0;
}

}  // namespace

hashdb::Result<MaintenanceStatus> ParseMaintenanceStatus(std::string_view json,
                                                         const std::string& source_name) {
  auto parsed = lockd::audit::ParseJson(json);
  if (!parsed.ok()) return parsed.error().Wrap(source_name);
  const JsonValue& v = *parsed;
  if (v.type != JsonValue::Type::kObject) return Missing(source_name, "a JSON object");
  MaintenanceStatus s;
  auto state = String(v, "state", source_name, true);
  if (!state.ok()) return state.error();
  s.state = *state;
  auto session = String(v, "session", source_name, false);
  if (!session.ok()) return session.error();
  s.session = *session;
  s.learned_count = Uint(v.Find("learned_count"));
  s.not_learned_count = Uint(v.Find("not_learned_count"));
  s.learned_dropped = Uint(v.Find("learned_dropped"));
  auto learned = String(v, "learned_list", source_name, false);
  if (!learned.ok()) return learned.error();
  s.learned_list = *learned;
  auto roots = Strings(v, "baseline_roots", source_name);
  if (!roots.ok()) return roots.error();
  s.baseline_roots = *roots;
  auto excludes = Strings(v, "baseline_excludes", source_name);
  if (!excludes.ok()) return excludes.error();
  s.baseline_excludes = *excludes;
  if (const JsonValue* db = v.Find("database");
      db != nullptr && db->type == JsonValue::Type::kObject) {
    auto path = String(*db, "path", source_name, false);
    if (!path.ok()) return path.error();
    s.database_path = *path;
    s.generation = Uint(db->Find("generation"));
  }
  return s;
}

}  // namespace lockctl
