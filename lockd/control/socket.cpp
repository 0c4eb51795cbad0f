#include "lockd/control/socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lockd::os {

namespace {

hashdb::Result<sockaddr_un> MakeAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "control socket path '" + path + "': empty or longer than " +
                                 std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

void SetTimeouts(int fd, int timeout_ms) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bool WriteAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

hashdb::Result<ControlServer> ControlServer::Listen(const std::string& path) {
  auto addr = MakeAddress(path);
  if (!addr.ok()) return addr.error();
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return hashdb::ErrnoError("mkdir " + dir);
    }
  }
  hashdb::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return hashdb::ErrnoError("socket");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                               path + ": exists and is not a socket; refusing to replace it");
    }
    ::unlink(path.c_str());
  }
  // Bind with a restrictive umask so the socket never exists with wider permissions.
  const mode_t old_umask = ::umask(0177);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  ::umask(old_umask);
  if (rc != 0) return hashdb::ErrnoError("bind " + path);
  if (::chmod(path.c_str(), 0600) != 0) return hashdb::ErrnoError("chmod " + path);
  if (::listen(fd.get(), 16) != 0) return hashdb::ErrnoError("listen " + path);
  return ControlServer(std::move(fd), path);
}

ControlServer::ControlServer(ControlServer&& other) noexcept
    : fd_(std::move(other.fd_)), path_(std::move(other.path_)) {
  other.path_.clear();
}

ControlServer::~ControlServer() {
  if (fd_.valid() && !path_.empty()) ::unlink(path_.c_str());
}

hashdb::Result<ControlPeer> ControlServer::Accept() {
  int cfd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  if (cfd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return hashdb::MakeError(hashdb::ErrorCode::kNotFound, "no pending connection");
    }
    return hashdb::ErrnoError("accept on " + path_);
  }
  ControlPeer peer;
  peer.fd.Reset(cfd);
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return hashdb::ErrnoError("SO_PEERCRED on " + path_);
  }
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  SetTimeouts(cfd, 1000);
  return peer;
}

hashdb::Result<std::string> ControlServer::ReadRequest(int fd) {
  std::string request;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                               "control request not ended (the client must shut down its write "
                               "side after the request)");
    }
    if (n < 0) return hashdb::ErrnoError("read control request");
    if (n == 0) break;
    request.append(buf, static_cast<std::size_t>(n));
    if (request.size() > kMaxControlRequest + 1) {  // + 1: the final newline
      return hashdb::MakeError(
          hashdb::ErrorCode::kFormat,
          "control request longer than " + std::to_string(kMaxControlRequest) + " bytes");
    }
  }
  if (!request.empty() && request.back() == '\n') request.pop_back();
  return request;
}

void ControlServer::Reply(int fd, const std::string& reply) { WriteAll(fd, reply); }

hashdb::Result<std::string> ControlRequest(const std::string& socket_path,
                                           const std::string& request, int timeout_ms) {
  auto addr = MakeAddress(socket_path);
  if (!addr.ok()) return addr.error();
  hashdb::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return hashdb::ErrnoError("socket");
  SetTimeouts(fd.get(), timeout_ms);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return hashdb::ErrnoError("connect " + socket_path + " (is lockd running?)");
  }
  if (request.size() > kMaxControlRequest) {
    return hashdb::MakeError(
        hashdb::ErrorCode::kInvalidArgument,
        "control request longer than " + std::to_string(kMaxControlRequest) + " bytes");
  }
  if (!WriteAll(fd.get(), request + "\n")) return hashdb::ErrnoError("send to " + socket_path);
  ::shutdown(fd.get(), SHUT_WR);
  std::string reply;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return hashdb::ErrnoError("read reply from " + socket_path);
    if (n == 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
    if (reply.size() > (16u << 20)) {
      return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                               "reply from " + socket_path + " longer than 16 MiB");
    }
  }
  return reply;
}

}  // namespace lockd::os
