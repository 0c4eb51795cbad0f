// `lockctl export ...`: wiring of the command line (see tools/export/commands.h).
#include "tools/export/commands.h"

#include "lockd/audit/rotation_drop.h"

#include <sys/stat.h>

#include <iostream>
#include <memory>

#include "audit/record.h"
#include "lockd/config.h"
#include "tools/commands.h"
#include "tools/export/exporter.h"
#include "tools/export/verify_bundle.h"
#include "tools/output.h"
#include "tools/since.h"

namespace lockctl {
namespace {

constexpr char kWho[] = "lockctl export";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int RunExport(const ExportArgs& args, std::ostream& out, std::ostream& err) {
  if (args.out.empty()) {
    err << kWho << ": --out DIR or --out FILE.tar is required\n";
    return kExitUsage;
  }
  exporttool::ExportRequest req;
  req.config_path = args.config;
  struct stat st {};
  if (::stat(args.config.c_str(), &st) == 0 || args.config_given) {
    auto cfg = lockd::LoadConfig(args.config);
    if (!cfg) {
      err << kWho << ": " << cfg.error().message << "\n";
      return kExitUsage;
    }
    req.config = *cfg;
  } else {
    req.config_path = "(defaults: " + args.config + " does not exist)";
  }
  if (!args.since.empty()) {
    req.since = ParseSince(args.since, req.now);
    if (!req.since) {
      err << kWho << ": --since \"" << EscapeText(args.since) << "\": expected " << kSinceForms
          << "\n";
      return kExitUsage;
    }
    req.since_text = lockd::audit::FormatTime(*req.since);
  }
  req.collect_posture = args.collect_posture;
  req.ask_daemon = args.ask_daemon;

  std::unique_ptr<Token> token;
  if (!args.token.token.empty()) {
    auto t = OpenTokenFromOptions(args.token);
    if (!t) {
      err << kWho << ": " << t.error().message << "\n";
      return kExitUsage;
    }
    token = std::move(*t);
  } else if (args.token.secret_fd >= 0) {
    err << kWho << ": --passphrase-fd/--pin-fd without --token\n";
    return kExitUsage;
  }

  auto bundle = exporttool::BuildBundle(req, token.get());
  if (!bundle) {
    err << kWho << ": " << bundle.error().message << "\n";
    return kExitUsage;
  }
  const bool tar = EndsWith(args.out, ".tar");
  const std::int64_t mtime =
      std::chrono::duration_cast<std::chrono::seconds>(req.now.time_since_epoch()).count();
  auto st_write = tar ? exporttool::WriteBundleTar(args.out, bundle->files, mtime)
                      : exporttool::WriteBundleDirectory(args.out, bundle->files);
  if (!st_write.ok()) {
    err << kWho << ": " << st_write.error().message << "\n";
    return kExitUsage;
  }
  // Mark what the bundle took, so that a rotation deleting those records later does not
  // count them as unsaved (docs/audit-log.md, "Retention"). A terminal whose log directory is
  // read-only to us still gets its bundle; the mark is then only missing.
  if (bundle->chain_ok && bundle->head_seq > 0) {
    auto marked =
        lockd::audit::WriteExportMark(req.config.audit_log, bundle->head_seq, bundle->head_hash);
    if (!marked.ok()) {
      err << kWho << ": note: the export mark was not written: " << marked.error().message << "\n";
    }
  }
  for (const auto& note : bundle->notes) err << kWho << ": note: " << note << "\n";
  out << "wrote " << (tar ? "archive " : "directory ") << args.out << ": " << bundle->files.size()
      << " files, "
      << (token ? "manifest signed by " + token->Describe() : std::string("UNSIGNED (no --token)"))
      << "\n"
      << "audit log head: "
      << (bundle->head_hash.empty() ? std::string("(none)") : bundle->head_hash)
      << (bundle->chain_ok ? "" : " (chain does not verify or no log)") << "\n";
  return kExitOk;
}

int RunExportVerify(const ExportVerifyArgs& args, std::ostream& out, std::ostream& err) {
  std::optional<hashdb::TrustStore> trust;
  if (!args.trust.empty()) {
    auto t = hashdb::TrustStore::LoadDirectory(args.trust);
    if (!t) {
      err << "lockctl export verify: " << t.error().message << "\n";
      return kExitUsage;
    }
    trust = std::move(*t);
  }
  auto bundle = exporttool::ReadBundle(args.bundle);
  if (!bundle) {
    if (bundle.error().code == hashdb::ErrorCode::kFormat) {
      err << "lockctl export verify: " << bundle.error().message << "\n";
      out << "result:    DOES NOT VERIFY\n";
      return kExitNegative;
    }
    err << "lockctl export verify: " << bundle.error().message << "\n";
    return kExitUsage;
  }
  const auto v = exporttool::VerifyBundle(*bundle, trust ? &*trust : nullptr, args.trust);
  out << "bundle:    " << args.bundle << "\n";
  for (const auto& line : v.lines) out << line << "\n";
  out << "signature: " << (v.signature.empty() ? "(not checked)" : v.signature) << "\n";
  for (const auto& p : v.problems) err << args.bundle << ": " << p << "\n";
  out << "result:    " << (v.ok() ? "OK" : "DOES NOT VERIFY") << "\n";
  return v.ok() ? kExitOk : kExitNegative;
}

void RegisterExportCommands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* exp = app.add_subcommand(
      "export",
      "Write the auditor's bundle (inventory, database history, maintenance, blocks, log chain, "
      "posture, HTML report, signed manifest); `export verify` checks one");
  exp->require_subcommand(0, 1);
  exp->add_option("--out", args->out, "Bundle to write: a new or empty DIR, or FILE.tar");
  auto* cfg = exp->add_option("--config", args->config,
                              "lockd configuration naming the database, trust dir, state dir "
                              "and audit log")
                  ->capture_default_str();
  exp->add_option(
      "--since", args->since,
      "Only events at or after: 2026-11-27T08:00:00Z, 2026-11-27, or 30s/15m/12h/7d ago "
      "(the raw log is always whole)");
  AddTokenOptions(exp, args->token);

  auto verify = std::make_shared<ExportVerifyArgs>();
  CLI::App* v = exp->add_subcommand(
      "verify",
      "Check a bundle offline: every sum, no file missing or extra, the signature, the "
      "log chain; exit 1 and name what does not match");
  v->add_option("bundle", verify->bundle, "Bundle directory or .tar file")->required();
  v->add_option("--trust", verify->trust,
                "Trust anchors the manifest signature must verify with (an unsigned bundle then "
                "fails)");
  v->callback([verify, &exit_code] { exit_code = RunExportVerify(*verify, std::cout, std::cerr); });

  exp->callback([exp, v, cfg, args, &exit_code] {
    if (exp->got_subcommand(v)) return;
    args->config_given = cfg->count() > 0;
    exit_code = RunExport(*args, std::cout, std::cerr);
  });
}

}  // namespace lockctl
