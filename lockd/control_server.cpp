#include "lockd/control_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

ControlReply ControlServerThread::Handle(const std::string& request, uid_t uid,
                                         const ControlHandlers& handlers) {
  if (uid != 0) return {ControlReply::Code::kError, "permission denied: root only\n"};
  if (request == "status") return {ControlReply::Code::kOk, handlers.status(false)};
  if (request == "status --json") return {ControlReply::Code::kOk, handlers.status(true)};
  if (request == "reload") return handlers.reload();
  return {ControlReply::Code::kError, "unknown request (expected status, status --json, reload)\n"};
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
        reply = Handle(*request, peer->uid, handlers_);
      }
    }
    os::ControlServer::Reply(peer->fd.get(), Encode(reply));
  }
}

}  // namespace lockd
