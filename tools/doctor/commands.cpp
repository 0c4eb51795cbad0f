// `lockctl doctor`: the posture report (see tools/doctor/commands.h).
#include "tools/doctor/commands.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "hashdb/database.h"
#include "hashdb/trust_store.h"
#include "tools/commands.h"
#include "tools/output.h"

namespace lockctl {

namespace {

constexpr char kWho[] = "lockctl doctor";

struct Counts {
  int ok = 0, warn = 0, fail = 0;
};

Counts CountOf(const std::vector<lockd::PostureCheck>& checks) {
  Counts c;
  for (const auto& check : checks) {
    switch (check.status) {
      case lockd::CheckStatus::kOk:
        ++c.ok;
        break;
      case lockd::CheckStatus::kWarn:
        ++c.warn;
        break;
      case lockd::CheckStatus::kFail:
        ++c.fail;
        break;
    }
  }
  return c;
}

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string DoctorText(const lockd::PostureFacts& facts,
                       const std::vector<lockd::PostureCheck>& checks) {
  std::size_t title_width = 0;
  for (const auto& c : checks) title_width = std::max(title_width, c.title.size());
  std::ostringstream out;
  out << "lockd posture, kernel " << EscapeText(facts.kernel_release) << "\n";
  for (const auto& c : checks) {
    out << Pad(std::string(lockd::CheckStatusName(c.status)), 5) << Pad(c.title, title_width)
        << "  " << EscapeText(c.why) << "\n";
    std::size_t path_width = 0;
    for (const auto& item : c.items) {
      path_width = std::max(path_width, EscapeText(item.path).size());
    }
    for (const auto& item : c.items) {
      out << "       " << Pad(EscapeText(item.path), path_width) << "  " << EscapeText(item.detail)
          << "\n";
    }
  }
  Counts n = CountOf(checks);
  out << "summary: " << n.ok << " ok, " << n.warn << " warn, " << n.fail << " fail\n";
  return out.str();
}

std::string DoctorJson(const lockd::PostureFacts& facts,
                       const std::vector<lockd::PostureCheck>& checks) {
  Counts n = CountOf(checks);
  std::ostringstream out;
  out << "{\"schema\":\"lockd-doctor/1\",\"kernel\":" << JsonString(facts.kernel_release)
      << ",\"status\":\"" << lockd::CheckStatusName(lockd::WorstStatus(checks)) << "\""
      << ",\"summary\":{\"ok\":" << n.ok << ",\"warn\":" << n.warn << ",\"fail\":" << n.fail
      << "},\"database\":";
  if (facts.interpreters) {
    out << "{" << JsonBytesMember("path", facts.interpreters->database) << "}";
  } else {
    out << "null";
  }
  out << ",\"checks\":[";
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const auto& c = checks[i];
    out << (i ? "," : "") << "{\"id\":" << JsonString(c.id) << ",\"title\":" << JsonString(c.title)
        << ",\"status\":\"" << lockd::CheckStatusName(c.status)
        << "\",\"why\":" << JsonString(c.why) << ",\"items\":[";
    for (std::size_t j = 0; j < c.items.size(); ++j) {
      out << (j ? "," : "") << "{" << JsonBytesMember("path", c.items[j].path)
          << ",\"detail\":" << JsonString(c.items[j].detail) << "}";
    }
    out << "]}";
  }
  out << "]}\n";
  return out.str();
}

int RunDoctor(const DoctorOptions& options, std::ostream& out, std::ostream& err) {
  if (options.db_path.empty() != options.trust_dir.empty()) {
    err << kWho << ": --db and --trust go together (the database is verified before use)\n";
    return kExitUsage;
  }
  lockd::PostureFacts facts = lockd::CollectPostureFacts(options.collect);
  if (!options.db_path.empty()) {
    auto trust = hashdb::TrustStore::LoadDirectory(options.trust_dir);
    if (!trust.ok()) {
      err << kWho << ": " << trust.error().message << "\n";
      return kExitUsage;
    }
    auto db = hashdb::Database::Open(options.db_path, *trust);
    if (db.ok()) {
      facts.interpreters = lockd::InterpreterFactsFromDatabase(**db, options.db_path);
    } else {
      lockd::InterpreterFacts failed;
      failed.database = options.db_path;
      failed.error = db.error().message;
      facts.interpreters = std::move(failed);
    }
  }
  std::vector<lockd::PostureCheck> checks = lockd::EvaluatePosture(facts);
  out << (options.json ? DoctorJson(facts, checks) : DoctorText(facts, checks));
  return lockd::WorstStatus(checks) == lockd::CheckStatus::kFail ? kExitNegative : kExitOk;
}

void RegisterDoctorCommands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DoctorOptions>();
  CLI::App* doctor = app.add_subcommand(
      "doctor",
      "Report the kernel and mount settings exec control depends on, each ok / warn / fail "
      "(exit 1 if any check fails)");
  doctor->add_flag("--json", options->json, "One JSON object instead of text");
  doctor->add_option("--db", options->db_path,
                     "Allowlist database: also list the interpreters it allows");
  doctor->add_option("--trust", options->trust_dir, "Trust anchor directory to verify --db with");
  options->collect.daemon_socket = "/run/lockd/control.sock";
  doctor
      ->add_option("--socket", options->collect.daemon_socket,
                   "Control socket of the running lockd, asked for its own view (overlay "
                   "gaps, how it learns of new mounts); nothing there: left out")
      ->capture_default_str();
  doctor->callback(
      [options, &exit_code] { exit_code = RunDoctor(*options, std::cout, std::cerr); });
}

}  // namespace lockctl
