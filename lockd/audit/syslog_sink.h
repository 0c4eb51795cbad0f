#pragma once
// SyslogSink: sends audit lines to the local syslog daemon (rsyslog, syslog-ng, or journald,
// which listens on /dev/log), for fleets that forward logs to a SIEM.
//
// It speaks the same datagram protocol as glibc's syslog(3) — "<PRI>Mmm dd hh:mm:ss
// lockd[PID]: MESSAGE" on an AF_UNIX datagram socket — but with two differences that matter
// for a daemon answering the kernel: the socket path is configurable (tests point it at their
// own rsyslog; /dev/log by default), and sends never block (MSG_DONTWAIT): when the syslog
// daemon is down or its queue is full, the message is counted as failed and dropped. The
// audit file is the record of truth; syslog is a copy.
//
// Not thread-safe (used by AuditLog's writer thread only).

#include <cstdint>
#include <string>
#include <string_view>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::audit {

struct SyslogOptions {
  std::string socket_path = "/dev/log";
  int facility = 10 << 3;  // LOG_AUTHPRIV: security/authorization messages, root-readable
  std::string ident = "lockd";
};

// "auth", "authpriv", "daemon", "user", "local0".."local7" -> the LOG_* facility value.
hashdb::Result<int> ParseSyslogFacility(std::string_view name);

// Severity for a record type: LOG_ERR for lost records and overflows, LOG_WARNING for denials
// and refusals, LOG_NOTICE for the rest.
int SyslogSeverity(std::string_view record_type);

class SyslogSink {
 public:
  static hashdb::Result<SyslogSink> Create(SyslogOptions options);

  // Sends one message (an audit line) with the given severity (LOG_*). Returns false when it
  // could not be handed to the socket (daemon absent, queue full, message too large).
  bool Send(int severity, std::string_view message);

  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }

 private:
  explicit SyslogSink(SyslogOptions options) : options_(std::move(options)) {}
  SyslogOptions options_;
  hashdb::UniqueFd fd_;
  std::uint64_t sent_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace lockd::audit
