#include "lockd/os/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "hashdb/unique_fd.h"

namespace lockd::os {

hashdb::Status SdNotify(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@')) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "NOTIFY_SOCKET: expected an absolute or abstract socket path");
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  hashdb::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return hashdb::ErrnoError("socket for NOTIFY_SOCKET");
  const socklen_t addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr), addr_len) < 0) {
    return hashdb::ErrnoError(std::string("sendto NOTIFY_SOCKET ") + path);
  }
  return {};
}

std::optional<std::chrono::milliseconds> WatchdogPingInterval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::nullopt;
  if (const char* wpid = std::getenv("WATCHDOG_PID"); wpid != nullptr) {
    if (std::strtol(wpid, nullptr, 10) != ::getpid()) return std::nullopt;
  }
  char* end = nullptr;
  unsigned long long us = std::strtoull(usec, &end, 10);
  if (end == usec || *end != '\0' || us == 0) return std::nullopt;
  return std::chrono::milliseconds(us / 2000);
}

}  // namespace lockd::os
