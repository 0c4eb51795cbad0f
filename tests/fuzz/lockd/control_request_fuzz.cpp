// Fuzz target for the control socket's request parser (lockd/control/server.h,
// ControlServerThread::Handle: the command line, its words and operands, the body). Whatever
// the bytes, a handler is only reached with what the protocol promises it: a challenge
// argument that ValidateActArgument accepts, an act's operand of the right form (an absolute
// path without spaces or control characters, a key id of 64 lower-case hex digits, or none)
// with a non-blank authorization body, quarantine paths that are absolute and hold no NUL.
// Everything else is answered "error" with a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lockd/control/authorizer.h"
#include "lockd/control/server.h"

namespace {

bool CleanAbsolute(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f || c == ' ') return false;
  }
  return true;
}

lockd::ControlHandlers Checking() {
  lockd::ControlHandlers h;
  h.status = [](bool) { return std::string("status\n"); };
  h.maintenance_status = [](bool) { return std::string("maintenance\n"); };
  h.reload = [] { return lockd::ControlReply{}; };
  h.challenge = [](hashdb::Act act, const std::string& argument) {
    if (!lockd::ValidateActArgument(act, argument).ok()) __builtin_trap();
    return lockd::ControlReply{};
  };
  h.act = [](const lockd::ActRequest& r) {
    if (r.authorization.find_first_not_of('\n') == std::string::npos) __builtin_trap();
    switch (r.act) {
      case hashdb::Act::kMaintenanceStart:
      case hashdb::Act::kMaintenanceAbort:
        if (!r.operand.empty()) __builtin_trap();
        break;
      case hashdb::Act::kMaintenanceFinish:
      case hashdb::Act::kDbInstall:
      case hashdb::Act::kTrustAdd:
        if (!CleanAbsolute(r.operand)) __builtin_trap();
        break;
      case hashdb::Act::kTrustRetire:
        if (!lockd::IsLowerHex64(r.operand)) __builtin_trap();
        break;
      case hashdb::Act::kLeaveEnforce:
        __builtin_trap();  // has no command on the control socket
    }
    return lockd::ControlReply{};
  };
  h.quarantine = [](const lockd::QuarantineRequest& r) {
    for (const std::string* p : {&r.path, &r.out_dir}) {
      if (p->empty() || (*p)[0] != '/' || p->find('\0') != std::string::npos) __builtin_trap();
    }
    return lockd::ControlReply{};
  };
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lockd::ControlHandlers handlers = Checking();
  static const lockd::ControlHandlers none;
  const std::string request(reinterpret_cast<const char*>(data), size);
  for (const auto* h : {&handlers, &none}) {
    const lockd::ControlReply reply = lockd::ControlServerThread::Handle(request, 0, *h, 4242);
    if (reply.code == lockd::ControlReply::Code::kError &&
        (reply.body.empty() || reply.body.back() != '\n')) {
      __builtin_trap();
    }
    const std::string encoded = lockd::ControlServerThread::Encode(reply);
    if (encoded.find('\n') == std::string::npos) __builtin_trap();
  }
  // Any uid but root is refused before the request is looked at.
  if (lockd::ControlServerThread::Handle(request, 1000, handlers).code !=
      lockd::ControlReply::Code::kError) {
    __builtin_trap();
  }
  return 0;
}
