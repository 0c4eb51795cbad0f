#pragma once
// Serves the control socket on its own thread, so a slow or silent client never delays the
// event loop. Requests (one line): "status", "status --json", "reload". Reply: a first line
// "ok", "refused" or "error", then the body. Peers other than uid 0 get "error: permission
// denied" (SO_PEERCRED).
//
// Issue 5 adds token-authorized commands (mode changes, maintenance) here: a new branch in
// Handle() that verifies the authorization before calling into the daemon.

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
