// `lockctl log ...`: wiring of the command line and `log verify`.
#include "tools/log/commands.h"

#include <iostream>
#include <memory>

#include "audit/json_escape.h"
#include "audit/verify.h"
#include "tools/commands.h"

namespace lockctl {
namespace {

using lockd::audit::VerifyReport;

using lockd::audit::JsonString;

std::string Place(const lockd::audit::ChainPlace& p) {
  std::string s = p.file + ":" + std::to_string(p.line);
  if (p.seq) s += ": seq " + std::to_string(*p.seq);
  return s;
}

void PrintJson(const std::vector<std::string>& files, const VerifyReport& r, std::ostream& out) {
  out << "{\"ok\":" << (r.ok() ? "true" : "false") << ",\"files\":[";
  for (std::size_t i = 0; i < files.size(); ++i) out << (i ? "," : "") << JsonString(files[i]);
  out << "],\"records\":" << r.records << ",\"first_seq\":" << r.first_seq
      << ",\"last_seq\":" << r.last_seq
      << ",\"starts_at_genesis\":" << (r.starts_at_genesis ? "true" : "false")
      << ",\"first_prev\":" << JsonString(r.first_prev)
      << ",\"head_hash\":" << JsonString(r.head_hash)
      << ",\"head_file\":" << JsonString(r.head.file) << ",\"head_line\":" << r.head.line
      << ",\"torn\":[";
  for (std::size_t i = 0; i < r.torn.size(); ++i) {
    const auto& t = r.torn[i];
    out << (i ? "," : "") << "{\"file\":" << JsonString(t.place.file)
        << ",\"line\":" << t.place.line << ",\"bytes\":" << t.bytes
        << ",\"acknowledged\":" << (t.acknowledged ? "true" : "false") << "}";
  }
  out << "]";
  auto tally = [&](const char* name, const lockd::audit::DecisionTally& t) {
    out << ",\"" << name << "\":{\"total\":" << t.total() << ",\"records\":" << t.records
        << ",\"repeated\":" << t.repeated << ",\"lost\":" << t.lost
        << ",\"rotated_away\":" << t.rotated_away << "}";
  };
  tally("denials", r.deny);
  tally("would_denials", r.would_deny);
  out << ",\"declared_drops\":[";
  for (std::size_t i = 0; i < r.declared_drops.size(); ++i) {
    const auto& d = r.declared_drops[i];
    out << (i ? "," : "") << "{\"file\":" << JsonString(d.file) << ",\"records\":" << d.records
        << ",\"first_seq\":" << d.first_seq << ",\"last_seq\":" << d.last_seq
        << ",\"unsaved\":" << d.unsaved << ",\"declared_at\":" << d.place.seq.value_or(0) << "}";
  }
  out << "],\"drops_reach_chain\":" << (r.drops_reach_chain ? "true" : "false");
  if (r.broken) {
    const auto& b = *r.broken;
    out << ",\"break\":{\"file\":" << JsonString(b.place.file) << ",\"line\":" << b.place.line;
    if (b.place.seq) out << ",\"seq\":" << *b.place.seq;
    out << ",\"reason\":" << JsonString(b.reason) << "}";
  }
  out << "}\n";
}

void PrintText(const std::vector<std::string>& files, const VerifyReport& r, std::ostream& out) {
  out << "files:   ";
  for (const auto& f : files) out << " " << f;
  out << "\n";
  if (r.records == 0) {
    out << "records:  none\n";
  } else {
    out << "records:  " << r.records << " (seq " << r.first_seq << ".." << r.last_seq << "), ";
    if (r.starts_at_genesis) {
      out << "chain starts at genesis\n";
    } else if (r.drops_reach_chain) {
      out << "chain starts at seq " << r.first_seq
          << "; the records before it were rotated away, as the chain declares\n";
    } else {
      out << "chain starts at seq " << r.first_seq << " after a record with hash " << r.first_prev
          << " (earlier records are not in these files)\n";
    }
  }
  for (const auto& t : r.torn) {
    out << "torn:     " << t.place.file << ":" << t.place.line << ": " << t.bytes << " bytes "
        << (t.acknowledged ? "of a line torn by a crash, acknowledged by the next record"
                           : "at the end, torn by a crash and not yet repaired by the writer")
        << "\n";
  }
  std::uint64_t unsaved = 0;
  for (const auto& d : r.declared_drops) unsaved += d.unsaved;
  if (!r.declared_drops.empty()) {
    out << "rotated:  " << r.declared_drops.size() << " file(s) deleted by rotation, declared in "
        << "the chain";
    if (unsaved > 0)
      out << "; " << unsaved << " of their records were neither exported nor forwarded";
    out << "\n";
  }
  auto tally = [&](const char* name, const lockd::audit::DecisionTally& t) {
    if (t.total() == 0 && t.rotated_away == 0) return;
    out << name << t.total() << " (" << t.records << " records, " << t.repeated
        << " counted in repeat records, " << t.lost << " in records_lost)";
    if (t.rotated_away > 0) out << "; " << t.rotated_away << " more in rotated-away files";
    out << "\n";
  };
  tally("denials:  ", r.deny);
  tally("would-deny: ", r.would_deny);
  if (r.records > 0) {
    out << "head:     seq " << r.last_seq << " sha256 " << r.head_hash << " (" << r.head.file << ":"
        << r.head.line << ")\n";
  }
  out << "result:   " << (r.ok() ? "OK" : "BROKEN") << "\n";
}

}  // namespace

std::optional<std::vector<std::string>> ResolveLogFiles(const LogFilesArgs& args,
                                                        std::ostream& err) {
  if (!args.files.empty()) return args.files;
  auto files = lockd::audit::DiscoverLogFiles(args.log);
  if (!files) {
    err << "lockctl log: " << files.error().message << "\n";
    return std::nullopt;
  }
  return *files;
}

int RunLogVerify(const LogVerifyArgs& args, std::ostream& out, std::ostream& err) {
  auto files = ResolveLogFiles(args.input, err);
  if (!files) return kExitUsage;
  lockd::audit::VerifyOptions options;
  options.require_genesis = args.require_genesis;
  for (const auto& a : args.anchors) {
    if (a.size() != 64 || a.find_first_not_of("0123456789abcdef") != std::string::npos) {
      err << "lockctl log verify: --anchor \"" << a
          << "\": expected 64 lower-case hex digits (a head hash)\n";
      return kExitUsage;
    }
    options.anchors.push_back(a);
  }
  auto report = lockd::audit::VerifyLogFiles(*files, options);
  if (!report) {
    err << "lockctl log verify: " << report.error().message << "\n";
    return kExitUsage;
  }
  if (args.json) {
    PrintJson(*files, *report, out);
  } else {
    PrintText(*files, *report, out);
  }
  if (report->broken) {
    err << Place(report->broken->place) << ": " << report->broken->reason << "\n";
    return kExitNegative;
  }
  return kExitOk;
}

void RegisterLogCommands(CLI::App& app, int& exit_code) {
  CLI::App* log =
      app.add_subcommand("log", "Read, verify and summarise the hash-chained audit log");
  log->require_subcommand(1);

  auto verify = std::make_shared<LogVerifyArgs>();
  CLI::App* v = log->add_subcommand(
      "verify", "Check the chain (seq, prev hashes, shape); exit 1 and name the first break");
  v->add_option("files", verify->input.files,
                "Log files oldest first (default: the rotated files of --log)");
  v->add_option("--log", verify->input.log, "Log whose rotated files are discovered")
      ->capture_default_str();
  v->add_flag("--genesis", verify->require_genesis,
              "Require the chain to start at seq 1 (no older file removed)");
  v->add_option("--anchor", verify->anchors,
                "A head hash recorded earlier that must still be in the chain (repeatable)");
  v->add_flag("--json", verify->json, "JSON output");
  v->callback([&exit_code, verify] { exit_code = RunLogVerify(*verify, std::cout, std::cerr); });

  auto show = std::make_shared<LogShowArgs>();
  CLI::App* s = log->add_subcommand("show", "Print audit records as a table (or as JSON lines)");
  s->add_option("files", show->input.files,
                "Log files oldest first (default: the rotated files of --log)");
  s->add_option("--log", show->input.log, "Log whose rotated files are discovered")
      ->capture_default_str();
  s->add_option(
      "--since", show->since,
      "Only records at or after: 2026-11-27T08:00:00Z, 2026-11-27, or 30s/15m/12h/7d ago");
  s->add_option("--type", show->types, "Only these record types (repeatable, or comma list)")
      ->delimiter(',');
  s->add_flag("--json", show->json, "Print the matching lines exactly as stored");
  s->callback([&exit_code, show] { exit_code = RunLogShow(*show, std::cout, std::cerr); });

  auto summary = std::make_shared<LogSummaryArgs>();
  CLI::App* m = log->add_subcommand(
      "summary",
      "Group would-deny (or deny) records by file and content, with counts, uids, programs, "
      "first and last time, and a proposal for each (add to the baseline, investigate, ...)");
  m->add_option("files", summary->input.files,
                "Log files oldest first (default: the rotated files of the config's audit_log)");
  auto* summary_log =
      m->add_option("--log", summary->input.log, "Log whose rotated files are discovered");
  auto* summary_cfg = m->add_option("--config", summary->config,
                                    "lockd configuration: audit log, baseline roots, database")
                          ->capture_default_str();
  m->add_option("--since", summary->since,
                "Only records at or after: 2026-11-27T08:00:00Z, 2026-11-27, or 30m/12h/7d ago");
  m->add_option("--type", summary->types, "would-deny (default) or deny, or both: would-deny,deny")
      ->delimiter(',');
  m->add_flag("--json", summary->json, "JSON output");
  m->callback([&exit_code, summary, summary_log, summary_cfg] {
    summary->log_given = summary_log->count() > 0;
    summary->config_given = summary_cfg->count() > 0;
    exit_code = RunLogSummary(*summary, std::cout, std::cerr);
  });
}

}  // namespace lockctl
