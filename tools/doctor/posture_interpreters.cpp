// Interpreters in the allowlist, for the posture report (see posture.h).
#include <string_view>

#include "tools/doctor/posture.h"

namespace lockd {

bool IsInterpreterBasename(std::string_view basename, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (n.empty() || basename.substr(0, n.size()) != n) continue;
    std::string_view rest = basename.substr(n.size());
    if (rest.empty()) return true;
    // A version suffix: digits and dots with at least one digit ("3.11", ".11", "5.36.0").
    bool digits_seen = false;
    bool ok = true;
    for (char ch : rest) {
      if (ch >= '0' && ch <= '9') {
        digits_seen = true;
      } else if (ch != '.') {
        ok = false;
        break;
      }
    }
    if (ok && digits_seen) return true;
  }
  return false;
}

InterpreterFacts InterpreterFactsFromDatabase(const hashdb::Database& db, std::string name) {
  InterpreterFacts in;
  in.database = std::move(name);
  in.cover_scripts = db.policy().cover_scripts;
  in.policy_interpreters = db.policy().interpreters;
  hashdb::RecordCursor cursor(db);
  while (cursor.Next()) {
    const hashdb::RecordView& r = cursor.record();
    if (r.kind == hashdb::Kind::kElfSharedObject) continue;
    const std::string_view path = r.path;
    const std::size_t slash = path.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (IsInterpreterBasename(base, in.policy_interpreters)) {
      in.found.push_back({std::string(r.path), std::string(hashdb::KindName(r.kind))});
    }
  }
  return in;
}

}  // namespace lockd
