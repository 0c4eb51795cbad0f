#pragma once
// lockctl's side of the control socket (protocol: lockd/control/server.h): which terminal to
// talk to (the daemon's config file, socket override), one request and its parsed reply, and
// the authorize round trip every privileged command makes:
//
//   1. "challenge <act> <argument>"  -> lockd's fresh challenge (lockd-challenge-v1 text)
//   2. the token signs it            -> lockd-authorization-v1 text
//   3. "<command>\n<authorization>"  -> lockd checks it and acts, or refuses naming the check
//
// Security: lockctl decides nothing here. lockd checks every authorization (anchor, signature,
// terminal, act and argument, expiry, single-use nonce); lockctl only carries the text.

#include <CLI/CLI.hpp>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "hashdb/authorization.h"
#include "hashdb/result.h"
#include "lockd/config.h"
#include "tools/token/token.h"

namespace lockctl {

// Where the terminal's daemon keeps things: its config file (/etc/lockd/lockd.toml by
// default) names the control socket, the trust dir and the state dir; --socket overrides.
struct TerminalOptions {
  std::string config_path;  // "" : the default path, which may be missing (defaults apply)
  std::string socket;       // "" : the config's control_socket
};

// Adds --config and --socket to cmd.
void AddTerminalOptions(CLI::App* cmd, TerminalOptions& options);

// The daemon's settings: the named config file (an error if missing or invalid), or the
// default one when present, else lockd's defaults; the socket override applied.
hashdb::Result<lockd::Config> LoadTerminalConfig(const TerminalOptions& options);

struct ControlAnswer {
  enum class Code { kOk, kRefused, kError } code = Code::kOk;
  std::string body;  // everything after the first line
  bool ok() const { return code == Code::kOk; }
};

// Parses a reply: first line "ok", "refused" or "error", then the body. Anything else is a
// kFormat error naming socket.
hashdb::Result<ControlAnswer> ParseControlAnswer(std::string_view reply, const std::string& socket);

// "<command>" alone, or "<command>\n<body>" (body's trailing newlines dropped: the transport
// adds one).
std::string ComposeRequest(std::string_view command, std::string_view body);

// "challenge <act>" plus " <argument>" when the argument is not empty.
std::string ChallengeRequest(hashdb::Act act, std::string_view argument);

// Sends one request and parses the reply. Transport failures (no daemon, timeout) are errors.
hashdb::Result<ControlAnswer> AskControl(const std::string& socket, const std::string& request);

// The authorize round trip above: asks for a challenge for act and argument, has token sign
// it, sends command with the authorization as body. A refused or failed challenge request is
// returned as the answer (its body says why); so is lockd's answer to the command.
// before_send, when set, runs between signing and sending (a crash-test stop point).
hashdb::Result<ControlAnswer> SendAuthorized(const std::string& socket, std::string_view command,
                                             hashdb::Act act, const std::string& argument,
                                             Token& token,
                                             const std::function<void()>& before_send = {});

// Maps an answer to an exit code and prints it: ok -> body on out, 0; refused -> "lockctl:
// <what>: refused by lockd: <reason>" on err, 1; error -> the same with "error from lockd", 2;
// a transport error -> the message, 2.
int ReportAnswer(const hashdb::Result<ControlAnswer>& answer, const std::string& what,
                 std::ostream& out, std::ostream& err);

}  // namespace lockctl
