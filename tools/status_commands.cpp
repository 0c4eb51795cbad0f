// lockctl status [--json] and lockctl reload: ask the running daemon over its control socket
// (root only; the daemon checks the peer's uid).
#include <iostream>
#include <string>

#include "lockd/control/socket.h"
#include "tools/commands.h"

namespace lockctl {

namespace {

constexpr char kDefaultSocket[] = "/run/lockd/control.sock";

// Sends one request and maps the reply's first line to an exit code: ok -> 0, refused -> 1,
// error or no daemon -> 2. The body goes to stdout on success and to stderr otherwise.
int Ask(const std::string& socket, const std::string& request) {
  auto reply = lockd::os::ControlRequest(socket, request);
  if (!reply.ok()) {
    std::cerr << "lockctl: " << reply.error().message << "\n";
    return kExitUsage;
  }
  const std::string& text = *reply;
  const auto nl = text.find('\n');
  const std::string head = text.substr(0, nl);
  const std::string body = nl == std::string::npos ? "" : text.substr(nl + 1);
  if (head == "ok") {
    std::cout << body;
    return kExitOk;
  }
  std::cerr << "lockctl: " << socket << ": " << (body.empty() ? head + "\n" : body);
  return head == "refused" ? kExitNegative : kExitUsage;
}

}  // namespace

void RegisterDaemonCommands(CLI::App& app, int& exit_code) {
  auto socket = std::make_shared<std::string>(kDefaultSocket);
  auto json = std::make_shared<bool>(false);

  auto* status = app.add_subcommand(
      "status", "Show the running daemon's mode, database, counters and last denials");
  status->add_flag("--json", *json, "One JSON object instead of text");
  status->add_option("--socket", *socket, "Control socket of the daemon")->capture_default_str();
  status->callback(
      [socket, json, &exit_code] { exit_code = Ask(*socket, *json ? "status --json" : "status"); });

  auto* reload = app.add_subcommand(
      "reload",
      "Make the daemon load its database file again (refused, exit 1, if it does not verify or "
      "its generation is lower than the highest accepted; the old one then stays in force)");
  reload->add_option("--socket", *socket, "Control socket of the daemon")->capture_default_str();
  reload->callback([socket, &exit_code] { exit_code = Ask(*socket, "reload"); });
}

}  // namespace lockctl
