#include "tools/control_client.h"

#include <sys/stat.h>

#include "lockd/control/socket.h"
#include "tools/commands.h"
#include "tools/token/token_options.h"

namespace lockctl {

void AddTerminalOptions(CLI::App* cmd, TerminalOptions& o) {
  cmd->add_option("--config", o.config_path,
                  std::string("lockd's config file: control socket, trust and state dirs "
                              "(default: ") +
                      lockd::kDefaultConfigPath + ")");
  cmd->add_option("--socket", o.socket, "control socket of the daemon (default: from the config)");
}

hashdb::Result<lockd::Config> LoadTerminalConfig(const TerminalOptions& options) {
  lockd::Config config;
  if (!options.config_path.empty()) {
    auto loaded = lockd::LoadConfig(options.config_path);
    if (!loaded.ok()) return loaded.error();
    config = std::move(*loaded);
  } else {
    struct stat st {};
    if (::stat(lockd::kDefaultConfigPath, &st) == 0) {
      auto loaded = lockd::LoadConfig(lockd::kDefaultConfigPath);
      if (!loaded.ok()) return loaded.error();
      config = std::move(*loaded);
    }
  }
  if (!options.socket.empty()) config.control_socket = options.socket;
  return config;
}

hashdb::Result<ControlAnswer> ParseControlAnswer(std::string_view reply,
                                                 const std::string& socket) {
  const auto nl = reply.find('\n');
  const std::string_view head = reply.substr(0, nl);
  ControlAnswer answer;
  if (head == "ok") {
    answer.code = ControlAnswer::Code::kOk;
  } else if (head == "refused") {
    answer.code = ControlAnswer::Code::kRefused;
  } else if (head == "error" || head.rfind("error:", 0) == 0) {
    // "error: permission denied" (the one-line form the server uses for non-root peers).
    answer.code = ControlAnswer::Code::kError;
    if (head.size() > 6) answer.body = std::string(head.substr(head.find_first_not_of(' ', 6)));
  } else {
    std::string shown(head.substr(0, 60));
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             socket + ": unexpected reply from lockd: \"" + shown +
                                 "\" (expected ok, refused or error)");
  }
  if (nl != std::string_view::npos) {
    if (!answer.body.empty()) answer.body += "\n";
    answer.body += std::string(reply.substr(nl + 1));
  }
  return answer;
}

std::string ComposeRequest(std::string_view command, std::string_view body) {
  std::string request(command);
  while (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (!body.empty()) request.append("\n").append(body);
  return request;
}

std::string ChallengeRequest(hashdb::Act act, std::string_view argument) {
  std::string request = "challenge " + std::string(hashdb::ActName(act));
  if (!argument.empty()) request.append(" ").append(argument);
  return request;
}

hashdb::Result<ControlAnswer> AskControl(const std::string& socket, const std::string& request) {
  auto reply = lockd::os::ControlRequest(socket, request);
  if (!reply.ok()) return reply.error();
  return ParseControlAnswer(*reply, socket);
}

hashdb::Result<ControlAnswer> SendAuthorized(const std::string& socket, std::string_view command,
                                             hashdb::Act act, const std::string& argument,
                                             Token& token,
                                             const std::function<void()>& before_send) {
  auto challenge = AskControl(socket, ChallengeRequest(act, argument));
  if (!challenge.ok() || !challenge->ok()) return challenge;
  auto authorization = AuthorizeChallengeText(challenge->body, "challenge from " + socket, token);
  if (!authorization.ok()) return authorization.error();
  if (before_send) before_send();
  return AskControl(socket, ComposeRequest(command, *authorization));
}

int ReportAnswer(const hashdb::Result<ControlAnswer>& answer, const std::string& what,
                 std::ostream& out, std::ostream& err) {
  if (!answer.ok()) {
    err << "lockctl: " << what << ": " << answer.error().message << "\n";
    return kExitUsage;
  }
  std::string body = answer->body;
  if (!body.empty() && body.back() != '\n') body += "\n";
  switch (answer->code) {
    case ControlAnswer::Code::kOk:
      out << body;
      return kExitOk;
    case ControlAnswer::Code::kRefused:
      err << "lockctl: " << what
          << ": refused by lockd: " << (body.empty() ? "(no reason)\n" : body);
      return kExitNegative;
    case ControlAnswer::Code::kError:
      break;
  }
  err << "lockctl: " << what << ": error from lockd: " << (body.empty() ? "(no detail)\n" : body);
  return kExitUsage;
}

}  // namespace lockctl
