// `lockctl fleet ...`: wiring of the command line and the report's read-verify-reduce loop.
#include "tools/fleet/commands.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>

#include "audit/record.h"
#include "hashdb/trust_store.h"
#include "tools/commands.h"
#include "tools/export/bundle.h"
#include "tools/export/verify_bundle.h"
#include "tools/fleet/aggregate.h"
#include "tools/fleet/bundle_facts.h"
#include "tools/fleet/report_csv.h"
#include "tools/fleet/report_html.h"
#include "tools/output.h"

namespace lockctl {
namespace {

constexpr char kWho[] = "lockctl fleet report";
constexpr char kHtmlName[] = "fleet-report.html";

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// The bundles an input names, in name order; false (after saying why on err) when it cannot be
// read.
bool ExpandInput(const std::string& input, std::vector<std::string>& bundles, std::ostream& err) {
  struct stat st {};
  if (::stat(input.c_str(), &st) != 0) {
    err << kWho << ": " << EscapeText(input) << ": " << std::strerror(errno) << "\n";
    return false;
  }
  if (!S_ISDIR(st.st_mode) || Exists(input + "/" + exporttool::kManifestName)) {
    bundles.push_back(input);
    return true;
  }
  DIR* d = ::opendir(input.c_str());
  if (!d) {
    err << kWho << ": " << EscapeText(input) << ": " << std::strerror(errno) << "\n";
    return false;
  }
  std::vector<std::string> found;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = input + "/" + name;
    if (IsDir(path) || name.ends_with(".tar")) {
      found.push_back(path);
    } else {
      err << kWho << ": note: " << EscapeText(path)
          << ": not a bundle (neither a directory nor a .tar file), skipped\n";
    }
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  bundles.insert(bundles.end(), found.begin(), found.end());
  return true;
}

}  // namespace

int RunFleetReport(const FleetReportArgs& args, std::ostream& out, std::ostream& err) {
  if (args.trust.empty()) {
    err << kWho << ": --trust DIR is required (the keys allowed to sign export bundles)\n";
    return kExitUsage;
  }
  if (args.out.empty()) {
    err << kWho << ": --out DIR is required (a new or empty directory)\n";
    return kExitUsage;
  }
  if (args.inputs.empty()) {
    err << kWho << ": give bundles (directories or .tar files) or directories of bundles\n";
    return kExitUsage;
  }
  auto trust = hashdb::TrustStore::LoadDirectory(args.trust);
  if (!trust) {
    err << kWho << ": " << trust.error().message << "\n";
    return kExitUsage;
  }
  std::optional<hashdb::TrustStore> db_trust;
  if (!args.db_trust.empty()) {
    auto t = hashdb::TrustStore::LoadDirectory(args.db_trust);
    if (!t) {
      err << kWho << ": " << t.error().message << "\n";
      return kExitUsage;
    }
    db_trust = std::move(*t);
  }
  // Refuse a non-empty --out before the long work (the write refuses it again).
  if (IsDir(args.out)) {
    DIR* d = ::opendir(args.out.c_str());
    bool empty = d != nullptr;
    while (d && empty) {
      dirent* e = ::readdir(d);
      if (!e) break;
      const std::string_view n = e->d_name;
      empty = n == "." || n == "..";
    }
    if (d) ::closedir(d);
    if (!empty) {
      err << kWho << ": " << EscapeText(args.out)
          << ": exists and is not empty (a report is never written over files)\n";
      return kExitUsage;
    }
  } else if (Exists(args.out)) {
    err << kWho << ": " << EscapeText(args.out) << ": exists and is not a directory\n";
    return kExitUsage;
  }

  std::vector<std::string> bundles;
  for (const auto& input : args.inputs) {
    if (!ExpandInput(input, bundles, err)) return kExitUsage;
  }

  fleet::FleetAggregator agg;
  for (const auto& path : bundles) {
    fleet::BundleFailure failure;
    failure.source = path;
    auto contents = exporttool::ReadBundle(path);
    if (!contents) {
      failure.reasons.push_back(contents.error().message);
    } else {
      const auto verdict = exporttool::VerifyBundle(*contents, &*trust, args.trust);
      if (!verdict.ok()) {
        failure.claimed_terminal_id = fleet::ClaimedTerminalId(*contents);
        failure.reasons = verdict.problems;
      } else {
        auto facts = fleet::ReadBundleFacts(*contents, path, db_trust ? &*db_trust : nullptr);
        if (facts) {
          agg.AddBundle(std::move(*facts));
          continue;
        }
        failure.claimed_terminal_id = fleet::ClaimedTerminalId(*contents);
        failure.reasons.push_back(facts.error().message);
      }
    }
    for (const auto& reason : failure.reasons) {
      err << kWho << ": FAILED: " << EscapeText(path) << ": " << EscapeText(reason) << "\n";
    }
    agg.AddFailure(std::move(failure));
  }
  const fleet::FleetReport report = agg.Finish();

  fleet::FleetReportContext ctx;
  ctx.trust_dir = args.trust;
  ctx.db_trust_dir = args.db_trust;
  ctx.generated_at = lockd::audit::FormatTime(std::chrono::system_clock::now());
  ctx.inputs = args.inputs;
  exporttool::Files files = fleet::RenderFleetCsv(report);
  files[kHtmlName] = fleet::RenderFleetHtml(report, ctx);
  if (auto st = exporttool::WriteBundleDirectory(args.out, files); !st.ok()) {
    err << kWho << ": " << st.error().message << "\n";
    return kExitUsage;
  }
  std::size_t drifted = 0;
  for (const auto& g : report.groups) drifted += g.drifted.size();
  out << "bundles:   " << report.bundles << " read, " << report.verified << " verified, "
      << report.failures.size() << (report.failures.empty() ? " failed" : " FAILED") << "\n"
      << "terminals: " << report.terminals.size() << ", " << report.groups.size()
      << " image group(s), " << drifted << " drifted from their group's baseline\n"
      << "wrote:     " << EscapeText(args.out) << "/" << kHtmlName << " and " << files.size() - 1
      << " CSV files\n";
  return report.failures.empty() ? kExitOk : kExitNegative;
}

void RegisterFleetCommands(CLI::App& app, int& exit_code) {
  CLI::App* fleet = app.add_subcommand("fleet", "Reports over many terminals' export bundles");
  fleet->require_subcommand(1);
  auto args = std::make_shared<FleetReportArgs>();
  CLI::App* r = fleet->add_subcommand(
      "report",
      "Verify every export bundle offline and write one report (HTML and CSV): terminals, "
      "database generation and signer, baseline drift, maintenance by engineer, blocks, and "
      "every bundle that failed verification");
  r->add_option("bundles", args->inputs,
                "Bundles (directories or .tar files), or directories holding bundles")
      ->required();
  r->add_option("--trust", args->trust,
                "Trust anchors every bundle's signature must verify with (unsigned bundles fail)")
      ->required();
  r->add_option("--db-trust", args->db_trust,
                "Also check each terminal's database signature with these anchors");
  r->add_option("--out", args->out,
                "New or empty directory for fleet-report.html and the CSV files")
      ->required();
  r->callback([args, &exit_code] { exit_code = RunFleetReport(*args, std::cout, std::cerr); });
}

}  // namespace lockctl
