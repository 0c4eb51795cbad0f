// `lockctl log summary`: reading the log and the terminal's configuration for tools/log/summary.h.
#include <sys/stat.h>

#include <algorithm>

#include "audit/json_parse.h"
#include "audit/record.h"
#include "audit/verify.h"
#include "hashdb/database.h"
#include "hashdb/trust_store.h"
#include "lockd/config.h"
#include "tools/commands.h"
#include "tools/export/audit_facts.h"
#include "tools/log/commands.h"
#include "tools/log/summary.h"
#include "tools/output.h"
#include "tools/since.h"

namespace lockctl {
namespace {

using lockd::audit::JsonValue;
constexpr char kWho[] = "lockctl log summary";

// The database in force, path -> sha256, and a line saying what was read.
void ReadDatabase(const lockd::Config& cfg, logsummary::Context& ctx, std::string& info) {
  auto trust = hashdb::TrustStore::LoadDirectory(cfg.trust_dir);
  auto db = trust ? hashdb::Database::Open(cfg.database, *trust)
                  : hashdb::Result<std::shared_ptr<const hashdb::Database>>(trust.error());
  std::string verified = "signature verified with " + cfg.trust_dir;
  if (!db) {
    verified = "signature NOT verified (" + db.error().message + ")";
    db = hashdb::Database::OpenUnverified(cfg.database);
  }
  if (!db) {
    info = "not read: " + db.error().message;
    return;
  }
  std::map<std::string, std::string> paths;
  for (std::uint32_t i = 0; i < (*db)->record_count(); ++i) {
    const hashdb::RecordView r = (*db)->RecordAt(i);
    paths.emplace(std::string(r.path), hashdb::ToHex(*r.digest));
  }
  ctx.database_paths = std::move(paths);
  info = EscapeText(cfg.database) + " (generation " + std::to_string((*db)->generation()) +
         ", mode " + std::string(hashdb::ModeName((*db)->policy().mode)) + ", " + verified + ")";
}

}  // namespace

int RunLogSummary(const LogSummaryArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> types;
  for (std::string t : args.types.empty() ? std::vector<std::string>{"would_deny"} : args.types) {
    std::replace(t.begin(), t.end(), '-', '_');
    if (t != "would_deny" && t != "deny") {
      err << kWho << ": --type \"" << EscapeText(t)
          << "\": expected would-deny or deny (or both: would-deny,deny)\n";
      return kExitUsage;
    }
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  std::optional<std::chrono::system_clock::time_point> since;
  if (!args.since.empty()) {
    since = ParseSince(args.since, lockd::audit::Clock::now());
    if (!since) {
      err << kWho << ": --since \"" << EscapeText(args.since) << "\": expected " << kSinceForms
          << "\n";
      return kExitUsage;
    }
  }

  logsummary::Context ctx;
  logsummary::RenderInfo info;
  info.types = types;
  LogFilesArgs input = args.input;
  struct stat st {};
  if (args.config_given || ::stat(args.config.c_str(), &st) == 0) {
    auto cfg = lockd::LoadConfig(args.config);
    if (!cfg) {
      err << kWho << ": " << cfg.error().message << "\n";
      return kExitUsage;
    }
    info.config = args.config;
    ctx.baseline_roots = cfg->baseline_roots;
    ctx.baseline_excludes = cfg->baseline_excludes;
    info.baseline_roots = cfg->baseline_roots;
    if (!args.log_given) input.log = cfg->audit_log;
    ReadDatabase(*cfg, ctx, info.database);
  }
  auto files = ResolveLogFiles(input, err);
  if (!files) return kExitUsage;
  info.files = *files;

  logsummary::Summary summary;
  for (const std::string& path : *files) {
    auto bytes = lockd::audit::ReadLogFile(path);
    if (!bytes) {
      err << kWho << ": " << bytes.error().message << "\n";
      return kExitUsage;
    }
    std::string_view data = *bytes;
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const std::string_view line = data.substr(0, nl);
      data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
      auto record = lockd::audit::ParseJson(line);
      const JsonValue* time = record ? record->Find("time") : nullptr;
      const JsonValue* type = record ? record->Find("type") : nullptr;
      if (!time || !type || time->type != JsonValue::Type::kString ||
          type->type != JsonValue::Type::kString) {
        ++info.unreadable_lines;
        continue;
      }
      // deny / would_deny records and repeat records of them, as counted denials.
      const JsonValue* seq = record->Find("seq");
      auto block = exporttool::ReadBlockEvent(
          *record, seq && seq->type == JsonValue::Type::kUint ? seq->uint_value : 0, time->string,
          type->string);
      if (!block || std::find(types.begin(), types.end(), block->type) == types.end()) continue;
      // A repeat record's time is its last denial's: kept whole when that is in the period.
      if (since) {
        const auto t = lockd::audit::ParseTime(time->string);
        if (!t || *t < *since) continue;
      }
      summary.Add(*block);
    }
  }
  const auto entries = summary.Finish(ctx);
  out << (args.json ? logsummary::RenderJson(summary, entries, info)
                    : logsummary::RenderText(summary, entries, info));
  return kExitOk;
}

}  // namespace lockctl
