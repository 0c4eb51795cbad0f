#include "lockd/audit/syslog_sink.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace lockd::audit {

hashdb::Result<int> ParseSyslogFacility(std::string_view name) {
  struct Entry {
    std::string_view name;
    int value;
  };
  static constexpr Entry kFacilities[] = {
      {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON},
      {"user", LOG_USER},     {"local0", LOG_LOCAL0},     {"local1", LOG_LOCAL1},
      {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},     {"local4", LOG_LOCAL4},
      {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},     {"local7", LOG_LOCAL7},
  };
  for (const auto& f : kFacilities) {
    if (f.name == name) return f.value;
  }
  return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                           "unknown syslog facility \"" + std::string(name) +
                               "\" (expected auth, authpriv, daemon, user or local0..local7)");
}

int SyslogSeverity(std::string_view type) {
  if (type == "records_lost" || type == "queue_overflow" || type == "torn_record" ||
      type == "chain_restart") {
    return LOG_ERR;
  }
  if (type == "deny" || type == "would_deny" || type == "repeat" || type == "db_refused" ||
      type == "rotation_drop") {
    return LOG_WARNING;
  }
  return LOG_NOTICE;
}

hashdb::Result<SyslogSink> SyslogSink::Create(SyslogOptions options) {
  sockaddr_un addr{};
  if (options.socket_path.empty() || options.socket_path.size() >= sizeof addr.sun_path) {
    return hashdb::MakeError(
        hashdb::ErrorCode::kInvalidArgument,
        "syslog socket path \"" + options.socket_path + "\" is empty or too long");
  }
  SyslogSink sink(std::move(options));
  sink.fd_.Reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sink.fd_.valid()) return hashdb::ErrnoError("syslog socket");
  return sink;
}

bool SyslogSink::Send(int severity, std::string_view message) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, options_.socket_path.data(), options_.socket_path.size());
  // The header glibc's syslog(3) writes; receivers parse it as RFC 3164.
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%h %e %T", &tm);
  std::string datagram = "<" + std::to_string(options_.facility | (severity & LOG_PRIMASK)) + ">" +
                         stamp + " " + options_.ident + "[" + std::to_string(::getpid()) + "]: ";
  datagram += message;
  const ssize_t n =
      ::sendto(fd_.get(), datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
               reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (n != static_cast<ssize_t>(datagram.size())) {
    ++failed_;
    return false;
  }
  ++sent_;
  return true;
}

}  // namespace lockd::audit
