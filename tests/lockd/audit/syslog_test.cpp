// The syslog copy: datagrams in the format glibc's syslog(3) uses, on a real AF_UNIX socket,
// carrying the audit line unchanged. (tests/integration/audit_syslog_test.sh checks the same
// against a real rsyslogd; it runs the "audit syslog: to a running syslog daemon" case below
// with LOCKD_AUDIT_SYSLOG_SOCKET set.)
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "audit/verify.h"
#include "lockd/audit/audit_log.h"
#include "tests/support/db_fixture.h"

using namespace lockd::audit;

namespace {

std::vector<std::string> FileLines(const std::string& path) {
  auto bytes = ReadLogFile(path);
  REQUIRE(bytes.ok());
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < bytes->size()) {
    const auto nl = bytes->find('\n', pos);
    lines.push_back(bytes->substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// The records every syslog test writes: ordinary and hostile.
void AppendSample(AuditLog& log) {
  Record start("daemon_start");
  start.AddBytes("version", "0.1.0");
  REQUIRE(log.Append(std::move(start)));
  Record deny("deny");
  deny.AddUint("pid", 4242)
      .AddBytes("path", "/tmp/evil\nname \"quoted\" \x1b[31m\xff\xfe")
      .AddBytes("exe", "/bin/sh");
  REQUIRE(log.Append(std::move(deny)));
  Record lost("records_lost");
  lost.AddUint("count", 3).AddBytes("reason", "queue_full");
  REQUIRE(log.Append(std::move(lost)));
  Record big("would_deny");
  big.AddBytes("path", "/" + std::string(5000, 'x'));
  REQUIRE(log.Append(std::move(big)));
}

}  // namespace

TEST_CASE("audit syslog: datagrams carry the exact audit line") {
  testsupport::TempDir dir;
  const std::string sock_path = dir.Join("log.sock");
  const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(sock >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  REQUIRE(::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);

  AuditLogOptions options;
  options.file.path = dir.Join("audit.jsonl");
  options.syslog = SyslogOptions{sock_path, LOG_AUTHPRIV, "lockd"};
  {
    auto log = AuditLog::Start(options);
    REQUIRE(log.ok());
    AppendSample(**log);
    (*log)->Flush();
    CHECK((*log)->stats().syslog_failed == 0);
  }
  const auto lines = FileLines(options.file.path);
  REQUIRE(lines.size() == 4);
  const int expected_pri[] = {LOG_AUTHPRIV | LOG_NOTICE, LOG_AUTHPRIV | LOG_WARNING,
                              LOG_AUTHPRIV | LOG_ERR, LOG_AUTHPRIV | LOG_WARNING};
  std::vector<char> buf(128 * 1024);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const ssize_t n = ::recv(sock, buf.data(), buf.size(), 0);
    REQUIRE(n > 0);
    const std::string msg(buf.data(), static_cast<std::size_t>(n));
    CAPTURE(msg);
    const std::string pri = "<" + std::to_string(expected_pri[i]) + ">";
    CHECK(msg.substr(0, pri.size()) == pri);
    // "<PRI>Mmm dd hh:mm:ss lockd[PID]: " then the line, byte for byte.
    const std::string tag = " lockd[" + std::to_string(::getpid()) + "]: ";
    REQUIRE(msg.find(tag) == pri.size() + 15);
    CHECK(msg.substr(pri.size() + 15 + tag.size()) == lines[i]);
  }
  ::close(sock);
}

TEST_CASE("audit syslog: no syslog daemon never blocks or fails the file") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file.path = dir.Join("audit.jsonl");
  options.syslog = SyslogOptions{dir.Join("nobody-listens.sock"), LOG_AUTHPRIV, "lockd"};
  auto log = AuditLog::Start(options);
  REQUIRE(log.ok());
  AppendSample(**log);
  (*log)->Flush();
  CHECK((*log)->stats().syslog_failed == 4);
  CHECK((*log)->stats().written == 4);
  CHECK(ParseSyslogFacility("authpriv").value() == LOG_AUTHPRIV);
  CHECK(ParseSyslogFacility("local7").value() == LOG_LOCAL7);
  CHECK_FALSE(ParseSyslogFacility("kern").ok());
}

// Run by tests/integration/audit_syslog_test.sh with a real rsyslogd listening on
// LOCKD_AUDIT_SYSLOG_SOCKET; it then compares what rsyslog stored with the audit file written
// to LOCKD_AUDIT_OUT. Without those variables there is nothing to talk to, and it does nothing.
TEST_CASE("audit syslog: to a running syslog daemon") {
  const char* socket_path = std::getenv("LOCKD_AUDIT_SYSLOG_SOCKET");
  const char* out = std::getenv("LOCKD_AUDIT_OUT");
  if (socket_path == nullptr || out == nullptr) {
    MESSAGE("LOCKD_AUDIT_SYSLOG_SOCKET/LOCKD_AUDIT_OUT not set: run by audit_syslog_test.sh");
    return;
  }
  AuditLogOptions options;
  options.file.path = out;
  const char* facility_name = std::getenv("LOCKD_AUDIT_FACILITY");
  auto facility = ParseSyslogFacility(facility_name ? facility_name : "authpriv");
  REQUIRE(facility.ok());
  options.syslog = SyslogOptions{socket_path, *facility, "lockd"};
  auto log = AuditLog::Start(options);
  REQUIRE(log.ok());
  AppendSample(**log);
  (*log)->Flush();
  CHECK((*log)->stats().syslog_failed == 0);
}
