#include "lockd/control/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <optional>
#include <string_view>
#include <vector>

#include "lockd/control/authorizer.h"
#include "lockd/log.h"

namespace lockd {

ControlServerThread::ControlServerThread(os::ControlServer server, ControlHandlers handlers)
    : server_(std::move(server)),
      handlers_(std::move(handlers)),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { Run(); });
}

ControlServerThread::~ControlServerThread() { Stop(); }

void ControlServerThread::Stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof(one));
  thread_.join();
}

namespace {

ControlReply Error(const std::string& message) {
  return {ControlReply::Code::kError, message + "\n"};
}

std::vector<std::string> SplitWords(std::string_view line) {
  std::vector<std::string> words;
  std::size_t start = 0;
  for (;;) {
    const auto space = line.find(' ', start);
    words.emplace_back(
        line.substr(start, space == std::string_view::npos ? line.size() - start : space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return words;
}

bool AbsolutePathOperand(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > 4096) return false;
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

struct ActCommand {
  std::string_view name;
  hashdb::Act act;
  enum class Operand { kNone, kPath, kKeyId } operand;
};

constexpr ActCommand kActCommands[] = {
    {"maintenance-start", hashdb::Act::kMaintenanceStart, ActCommand::Operand::kNone},
    {"maintenance-finish", hashdb::Act::kMaintenanceFinish, ActCommand::Operand::kPath},
    {"maintenance-abort", hashdb::Act::kMaintenanceAbort, ActCommand::Operand::kNone},
    {"db-install", hashdb::Act::kDbInstall, ActCommand::Operand::kPath},
    {"trust-add", hashdb::Act::kTrustAdd, ActCommand::Operand::kPath},
    {"trust-retire", hashdb::Act::kTrustRetire, ActCommand::Operand::kKeyId},
};

constexpr char kKnownCommands[] =
    "status, status --json, reload, challenge, maintenance-status, maintenance-start, "
    "maintenance-finish, maintenance-abort, db-install, trust-add, trust-retire, quarantine";

// Lower-case hex of a path's bytes -> the bytes, when it is an absolute path (4096 bytes at
// most, no NUL).
std::optional<std::string> HexPath(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 2 * 4096) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (std::size_t j = i; j < i + 2; ++j) {
      const char c = hex[j];
      v = v * 16 + (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -256);
    }
    if (v <= 0) return std::nullopt;  // not hex, or a NUL byte
    out.push_back(static_cast<char>(v));
  }
  if (out[0] != '/') return std::nullopt;
  return out;
}

}  // namespace

ControlReply ControlServerThread::Handle(const std::string& request, uid_t uid,
                                         const ControlHandlers& handlers, pid_t pid) {
  if (uid != 0) return {ControlReply::Code::kError, "permission denied: root only\n"};
  const auto nl = request.find('\n');
  const std::string_view line =
      std::string_view(request).substr(0, nl == std::string::npos ? request.size() : nl);
  const std::string body = nl == std::string::npos ? std::string() : request.substr(nl + 1);
  const std::vector<std::string> words = SplitWords(line);
  const std::string& command = words[0];

  if (command == "status" || command == "maintenance-status") {
    const bool json = words.size() == 2 && words[1] == "--json";
    if (words.size() > 2 || (words.size() == 2 && !json) || !body.empty()) {
      return Error(command + ": expected '" + command + "' or '" + command + " --json'");
    }
    const auto& handler = command == "status" ? handlers.status : handlers.maintenance_status;
    if (!handler) return Error(command + ": not available");
    return {ControlReply::Code::kOk, handler(json)};
  }
  if (command == "reload") {
    if (words.size() != 1 || !body.empty()) return Error("reload: takes no argument");
    if (!handlers.reload) return Error("reload: not available");
    return handlers.reload();
  }
  if (command == "challenge") {
    if (words.size() < 2 || words.size() > 3 || !body.empty()) {
      return Error("challenge: expected 'challenge <act> [<argument>]'");
    }
    const auto act = hashdb::ActFromName(words[1]);
    if (!act) return Error("challenge: unknown act '" + words[1] + "'");
    const std::string argument = words.size() == 3 ? words[2] : std::string();
    if (auto valid = ValidateActArgument(*act, argument); !valid.ok()) {
      return Error(valid.error().message);
    }
    if (!handlers.challenge) return Error("challenge: not available");
    return handlers.challenge(*act, argument);
  }
  if (command == "quarantine") {
    const bool remove = words.size() == 2 && words[1] == "--remove";
    std::string_view rest(body);
    if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
    const auto nl2 = rest.find('\n');
    std::optional<std::string> path, out_dir;
    if (nl2 != std::string_view::npos) {
      path = HexPath(rest.substr(0, nl2));
      out_dir = HexPath(rest.substr(nl2 + 1));
    }
    if ((words.size() != 1 && !remove) || !path || !out_dir) {
      return Error(
          "quarantine: expected 'quarantine [--remove]' and a body of two lines, the file's "
          "absolute path and the output directory, each as lower-case hex of its bytes");
    }
    if (!handlers.quarantine) return Error("quarantine: not available");
    return handlers.quarantine(QuarantineRequest{*path, *out_dir, remove});
  }
  for (const ActCommand& c : kActCommands) {
    if (command != c.name) continue;
    ActRequest act_request;
    act_request.act = c.act;
    act_request.peer_pid = pid;
    const std::string name(c.name);
    switch (c.operand) {
      case ActCommand::Operand::kNone:
        if (words.size() != 1) return Error(name + ": takes no argument on the command line");
        break;
      case ActCommand::Operand::kPath:
        if (words.size() != 2 || !AbsolutePathOperand(words[1])) {
          return Error(name + ": expected '" + name +
                       " <absolute path>' (no spaces or control characters)");
        }
        act_request.operand = words[1];
        break;
      case ActCommand::Operand::kKeyId:
        if (words.size() != 2 || !IsLowerHex64(words[1])) {
          return Error(name + ": expected '" + name + " <key id, 64 lower-case hex digits>'");
        }
        act_request.operand = words[1];
        break;
    }
    if (body.find_first_not_of("\n") == std::string::npos) {
      return Error(name + ": expected the token's authorization as the request body (lockctl " +
                   "asks for a challenge and has the token sign it)");
    }
    act_request.authorization = body;
    if (!handlers.act) return Error(name + ": not available");
    return handlers.act(act_request);
  }
  return Error("unknown request '" + command + "' (expected " + kKnownCommands + ")");
}

std::string ControlServerThread::Encode(const ControlReply& reply) {
  const char* head = reply.code == ControlReply::Code::kOk        ? "ok\n"
                     : reply.code == ControlReply::Code::kRefused ? "refused\n"
                                                                  : "error\n";
  return head + reply.body;
}

void ControlServerThread::Run() {
  for (;;) {
    pollfd fds[2] = {{server_.fd(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) continue;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    auto peer = server_.Accept();
    if (!peer.ok()) {
      if (peer.error().code != hashdb::ErrorCode::kNotFound) LogWarning(peer.error().message);
      continue;
    }
    ControlReply reply;
    if (peer->uid != 0) {
      reply = {ControlReply::Code::kError, "permission denied: root only\n"};
      LogWarning("control socket: refused request from uid " + std::to_string(peer->uid) + " pid " +
                 std::to_string(peer->pid));
    } else {
      auto request = os::ControlServer::ReadRequest(peer->fd.get());
      if (!request.ok()) {
        reply = {ControlReply::Code::kError, request.error().message + "\n"};
      } else {
        reply = Handle(*request, peer->uid, handlers_, peer->pid);
      }
    }
    os::ControlServer::Reply(peer->fd.get(), Encode(reply));
  }
}

}  // namespace lockd
