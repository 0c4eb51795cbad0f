// lockctl maintenance start|status|abort|finish: wiring, and the three short commands.
#include "tools/maintenance/commands.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "tools/commands.h"

namespace lockctl {

namespace {

int Fail(const std::string& who, const hashdb::Error& e, std::ostream& err) {
  err << "lockctl: " << who << ": " << e.message << "\n";
  return kExitUsage;
}

// The config, the token (passphrase or PIN asked here), then the authorized command.
int Authorized(const std::string& who, const TerminalOptions& terminal, const TokenOptions& t,
               const std::string& command, hashdb::Act act, const std::string& argument,
               std::ostream& out, std::ostream& err) {
  auto config = LoadTerminalConfig(terminal);
  if (!config.ok()) return Fail(who, config.error(), err);
  auto token = OpenTokenFromOptions(t);
  if (!token.ok()) return Fail(who, token.error(), err);
  auto answer = SendAuthorized(config->control_socket, command, act, argument, **token);
  return ReportAnswer(answer, who, out, err);
}

}  // namespace

bool IsYes(std::string answer) {
  const auto first = answer.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return false;
  answer = answer.substr(first, answer.find_last_not_of(" \t\r\n") - first + 1);
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

int RunMaintenanceStart(unsigned minutes, const TerminalOptions& terminal,
                        const TokenOptions& token, std::ostream& out, std::ostream& err) {
  if (minutes == 0) {
    err << "lockctl: maintenance start: --minutes must be at least 1\n";
    return kExitUsage;
  }
  return Authorized("maintenance start", terminal, token, "maintenance-start",
                    hashdb::Act::kMaintenanceStart, std::to_string(minutes), out, err);
}

int RunMaintenanceStatus(bool json, const TerminalOptions& terminal, std::ostream& out,
                         std::ostream& err) {
  auto config = LoadTerminalConfig(terminal);
  if (!config.ok()) return Fail("maintenance status", config.error(), err);
  return ReportAnswer(
      AskControl(config->control_socket, json ? "maintenance-status --json" : "maintenance-status"),
      "maintenance status", out, err);
}

int RunMaintenanceAbort(const TerminalOptions& terminal, const TokenOptions& token,
                        std::ostream& out, std::ostream& err) {
  return Authorized("maintenance abort", terminal, token, "maintenance-abort",
                    hashdb::Act::kMaintenanceAbort, "", out, err);
}

void RegisterMaintenanceCommands(CLI::App& app, int& exit_code) {
  CLI::App* m = app.add_subcommand(
      "maintenance", "Maintenance window: unlock for an update with the token, re-baseline, lock");
  m->require_subcommand(1);

  struct StartArgs {
    unsigned minutes = kDefaultMaintenanceMinutes;
    TerminalOptions terminal;
    TokenOptions token;
  };
  auto start = std::make_shared<StartArgs>();
  CLI::App* s = m->add_subcommand(
      "start",
      "Leave enforce for a window (authorized by the token): everything runs and is "
      "recorded; the window ends by itself");
  s->add_option("--minutes", start->minutes, "Length of the window in minutes")
      ->capture_default_str()
      ->check(CLI::Range(1u, 24u * 60u));
  AddTerminalOptions(s, start->terminal);
  AddTokenOptions(s, start->token);
  s->callback([start, &exit_code] {
    exit_code =
        RunMaintenanceStart(start->minutes, start->terminal, start->token, std::cout, std::cerr);
  });

  struct StatusArgs {
    bool json = false;
    TerminalOptions terminal;
  };
  auto status = std::make_shared<StatusArgs>();
  CLI::App* st =
      m->add_subcommand("status", "Is a window open: session, token, end, files learned");
  st->add_flag("--json", status->json, "One JSON object instead of text");
  AddTerminalOptions(st, status->terminal);
  st->callback([status, &exit_code] {
    exit_code = RunMaintenanceStatus(status->json, status->terminal, std::cout, std::cerr);
  });

  struct AbortArgs {
    TerminalOptions terminal;
    TokenOptions token;
  };
  auto abort = std::make_shared<AbortArgs>();
  CLI::App* a =
      m->add_subcommand("abort",
                        "Close the window without a new database: back to the policy mode with the "
                        "database in force (authorized by the token)");
  AddTerminalOptions(a, abort->terminal);
  AddTokenOptions(a, abort->token);
  a->callback([abort, &exit_code] {
    exit_code = RunMaintenanceAbort(abort->terminal, abort->token, std::cout, std::cerr);
  });

  auto finish = std::make_shared<FinishOptions>();
  CLI::App* f = m->add_subcommand(
      "finish",
      "Rescan, show the diff, confirm, sign generation + 1 with the token, have lockd "
      "install it and return to enforce");
  f->add_flag("--yes", finish->yes, "Install without asking (required without a terminal)");
  f->add_flag("--full", finish->full, "List every added, removed and changed path");
  f->add_flag("--updater-only", finish->updater_only,
              "Take only the files the trusted updater wrote during the window (no full "
              "rescan; nothing removed)");
  f->add_option("--threads", finish->threads, "Hashing threads (default: all cores)");
  AddTerminalOptions(f, finish->terminal);
  AddTokenOptions(f, finish->token);
  auto progress = std::make_shared<std::string>("auto");
  f->add_option("--progress", *progress,
                "Progress of the rescan on stderr: auto (a live line on a terminal, else "
                "nothing), none, tty, json (one JSON object per line)")
      ->check(CLI::IsMember({"auto", "none", "tty", "json"}))
      ->capture_default_str();
  f->callback([finish, progress, &exit_code] {
    finish->progress = *ParseProgressMode(*progress, ::isatty(STDERR_FILENO) == 1);
    exit_code =
        RunMaintenanceFinish(*finish, std::cin, ::isatty(STDIN_FILENO) == 1, std::cout, std::cerr);
  });
}

}  // namespace lockctl
