#include "tools/export/evidence.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "hashdb/terminal_id.h"
#include "hashdb/version.h"
#include "tools/export/csv.h"
#include "tools/output.h"

namespace lockctl::exporttool {
namespace {

// A member holding outsider bytes (JSON string plus _hex when needed), with a leading comma.
std::string M(std::string_view key, std::string_view value) {
  return "," + JsonBytesMember(key, value);
}

}  // namespace

std::string BlocksCsv(const AuditFacts& facts) {
  std::string out = CsvRow({"seq", "time", "type", "reason", "mode", "path", "path_hex",
                            "path_truncated", "sha256", "exe", "exe_hex", "pid", "uid",
                            "generation", "cached", "record", "count", "first_time", "last_time"});
  for (const auto& b : facts.blocks) {
    out += CsvRow({std::to_string(b.seq), DisplayText(b.time), b.type, DisplayText(b.reason),
                   DisplayText(b.mode), DisplayText(b.path), HexBytes(b.path),
                   b.path_truncated ? "true" : "false", DisplayText(b.sha256), DisplayText(b.exe),
                   HexBytes(b.exe), DisplayText(b.pid), DisplayText(b.uid),
                   DisplayText(b.generation), DisplayText(b.cached), b.repeat ? "repeat" : b.type,
                   std::to_string(b.count), DisplayText(b.first_time), DisplayText(b.last_time)});
  }
  return out;
}

std::string GenerationsJson(const AuditFacts& facts) {
  std::ostringstream o;
  o << "{\"schema\":\"lockd-export-generations/1\",\"note\":"
    << JsonString(
           "database loads, refusals and maintenance installs as recorded in the audit "
           "log; generations before the oldest log file are not known")
    << ",\"events\":[";
  for (std::size_t i = 0; i < facts.generations.size(); ++i) {
    const auto& g = facts.generations[i];
    o << (i ? "," : "") << "{\"seq\":" << g.seq << M("time", g.time) << M("type", g.type)
      << M("generation", g.generation) << M("message", g.message);
    if (g.type == "maintenance_finish") {
      o << M("session", g.session) << M("token_id", g.token_id) << M("holder", g.holder)
        << M("previous_generation", g.previous_generation) << M("db_sha256", g.db_sha256)
        << M("added", g.added) << M("removed", g.removed) << M("changed", g.changed);
    }
    o << "}";
  }
  o << "]}\n";
  return o.str();
}

std::string MaintenanceJson(const AuditFacts& facts) {
  std::ostringstream o;
  o << "{\"schema\":\"lockd-export-maintenance/1\",\"sessions\":[";
  for (std::size_t i = 0; i < facts.sessions.size(); ++i) {
    const auto& s = facts.sessions[i];
    o << (i ? "," : "") << "{" << JsonBytesMember("session", s.session)
      << ",\"start_seq\":" << s.start_seq << M("start_time", s.start_time)
      << M("token_id", s.token_id) << M("holder", s.holder) << M("organisation", s.organisation)
      << M("key_id", s.key_id) << M("minutes", s.minutes) << M("ends", s.ends)
      << M("start_message", s.start_message)
      << M("end", s.end_type.empty() ? "open or not in the log" : s.end_type)
      << ",\"end_seq\":" << s.end_seq << M("end_time", s.end_time)
      << M("end_message", s.end_message) << M("end_token_id", s.end_token_id)
      << M("end_holder", s.end_holder) << M("generation", s.generation)
      << M("previous_generation", s.previous_generation) << M("db_sha256", s.db_sha256)
      << M("added", s.added) << M("removed", s.removed) << M("changed", s.changed)
      << ",\"learned\":[";
    for (std::size_t j = 0; j < s.learned.size(); ++j) {
      const auto& f = s.learned[j];
      o << (j ? "," : "") << "{\"seq\":" << f.seq << M("time", f.time) << M("how", f.how)
        << M("path", f.path) << M("sha256", f.sha256) << M("kind", f.kind) << "}";
    }
    o << "]}";
  }
  o << "],\"authorized_acts\":[";
  for (std::size_t i = 0; i < facts.acts.size(); ++i) {
    const auto& a = facts.acts[i];
    o << (i ? "," : "") << "{\"seq\":" << a.seq << M("time", a.time) << M("type", a.type)
      << M("message", a.message);
    for (const auto& [k, v] : a.fields) o << M(k, v);
    o << "}";
  }
  o << "]}\n";
  return o.str();
}

std::string ChainJson(const lockd::audit::VerifyReport& r, const std::vector<std::string>& files,
                      const std::string& log_base) {
  std::ostringstream o;
  o << "{\"schema\":\"lockd-export-chain/1\"," << JsonBytesMember("log", log_base)
    << ",\"ok\":" << (r.ok() ? "true" : "false") << ",\"files\":[";
  for (std::size_t i = 0; i < files.size(); ++i) o << (i ? "," : "") << JsonString(files[i]);
  o << "],\"records\":" << r.records << ",\"first_seq\":" << r.first_seq
    << ",\"last_seq\":" << r.last_seq
    << ",\"starts_at_genesis\":" << (r.starts_at_genesis ? "true" : "false")
    << ",\"first_prev\":" << JsonString(r.first_prev)
    << ",\"head_hash\":" << JsonString(r.head_hash) << ",\"head_file\":" << JsonString(r.head.file)
    << ",\"head_line\":" << r.head.line << ",\"torn\":[";
  for (std::size_t i = 0; i < r.torn.size(); ++i) {
    const auto& t = r.torn[i];
    o << (i ? "," : "") << "{\"file\":" << JsonString(t.place.file) << ",\"line\":" << t.place.line
      << ",\"bytes\":" << t.bytes << ",\"acknowledged\":" << (t.acknowledged ? "true" : "false")
      << "}";
  }
  o << "],\"break\":";
  if (r.broken) {
    o << "{\"file\":" << JsonString(r.broken->place.file) << ",\"line\":" << r.broken->place.line
      << ",\"seq\":" << (r.broken->place.seq ? std::to_string(*r.broken->place.seq) : "null")
      << ",\"reason\":" << JsonString(r.broken->reason) << "}";
  } else {
    o << "null";
  }
  o << "}\n";
  return o.str();
}

HostFacts CollectHostFacts(const std::string& state_dir) {
  HostFacts h;
  // Read only: an export never creates the terminal id.
  auto id = hashdb::LoadTerminalId(state_dir + "/terminal-id");
  if (id) {
    h.terminal_id = *id;
  } else {
    h.terminal_id_error = id.error().message;
  }
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.kernel_sysname = u.sysname;
    h.kernel_release = u.release;
    h.kernel_version = u.version;
    h.machine = u.machine;
  }
  h.lockd_version = hashdb::kLockdVersion;
  return h;
}

std::string HostJson(const HostFacts& h) {
  std::ostringstream o;
  o << "{\"schema\":\"lockd-export-host/1\""
    << ",\"terminal_id\":" << (h.terminal_id.empty() ? "null" : JsonString(h.terminal_id))
    << ",\"terminal_id_error\":"
    << (h.terminal_id_error.empty() ? "null" : JsonString(h.terminal_id_error))
    << M("hostname", h.hostname) << ",\"kernel\":{" << JsonBytesMember("sysname", h.kernel_sysname)
    << M("release", h.kernel_release) << M("version", h.kernel_version) << M("machine", h.machine)
    << "}" << M("lockd_version", h.lockd_version) << M("exported_at", h.exported_at)
    << M("config", h.config_path)
    << ",\"since\":" << (h.since.empty() ? "null" : JsonString(h.since)) << "}\n";
  return o.str();
}

std::vector<BlockedFile> TopBlockedFiles(const AuditFacts& facts, std::size_t limit) {
  std::map<std::pair<std::string, std::string>, BlockedFile> by_file;
  for (const auto& b : facts.blocks) {
    auto& f = by_file[{b.path, b.sha256}];
    f.path = b.path;
    f.sha256 = b.sha256;
    (b.type == "deny" ? f.deny : f.would_deny) += b.count;
    f.last_time = std::max(f.last_time, b.time);
  }
  std::vector<BlockedFile> out;
  for (auto& [key, f] : by_file) out.push_back(std::move(f));
  std::stable_sort(out.begin(), out.end(), [](const BlockedFile& a, const BlockedFile& b) {
    return a.deny + a.would_deny > b.deny + b.would_deny;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace lockctl::exporttool
