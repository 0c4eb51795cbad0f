#pragma once
// Serves the control socket on its own thread, so a slow or silent client never delays the
// event loop. Only uid 0 peers are served (SO_PEERCRED); others get "error: permission denied".
//
// Protocol (one request per connection; the client writes the request, then shuts down its
// write side; at most 16 KiB). The first line is the command; the rest is the body. Reply: a
// first line "ok", "refused" or "error", then the body (text, or JSON where asked).
//
//   status | status --json                      the status report
//   reload                                      SIGHUP's reload
//   challenge <act> [<argument>]                a fresh challenge (hashdb/authorization.h,
//                                               lockd-challenge-v1 text) for act, bound to this
//                                               terminal; <act> is hashdb::ActName (e.g.
//                                               maintenance_start 30, db_install <sha256 hex>)
//   maintenance-start         + authorization   enter maintenance for the minutes in the
//                                               authorized challenge's argument
//   maintenance-status [--json]                 the window: state, session, token, start, end,
//                                               learned-file count and the learned list's path
//   maintenance-finish <db path> + authorization  install the re-baselined database (argument:
//                                               its SHA-256), load it, back to its policy mode
//   maintenance-abort         + authorization   back to the policy mode with the old database
//   db-install <db path>      + authorization   install and load a database (argument: SHA-256)
//   trust-add <pem path>      + authorization   add a trust anchor (argument: its key id)
//   trust-retire <key id hex> + authorization   retire one (argument: its key id); never the last
//
// "+ authorization" means the body is the lockd-authorization-v1 text the token produced for a
// challenge this lockd issued for that act and argument. Every refusal names the check that
// failed (hashdb::AuthzCheckName) and is written to the audit log (authz_refused).

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "hashdb/unique_fd.h"
#include "lockd/os/control_socket.h"

namespace lockd {

struct ControlReply {
  enum class Code { kOk, kRefused, kError } code = Code::kOk;
  std::string body;
};

struct ControlHandlers {
  std::function<std::string(bool json)> status;
  std::function<ControlReply()> reload;
};

class ControlServerThread {
 public:
  ControlServerThread(os::ControlServer server, ControlHandlers handlers);
  ~ControlServerThread();  // stops and joins
  ControlServerThread(const ControlServerThread&) = delete;
  ControlServerThread& operator=(const ControlServerThread&) = delete;

  void Stop();
  // Pure dispatch, for tests: the reply to one request line from a peer with this uid.
  static ControlReply Handle(const std::string& request, uid_t uid,
                             const ControlHandlers& handlers);
  static std::string Encode(const ControlReply& reply);

 private:
  void Run();
  os::ControlServer server_;
  ControlHandlers handlers_;
  hashdb::UniqueFd stop_fd_;  // eventfd
  std::thread thread_;
};

}  // namespace lockd
