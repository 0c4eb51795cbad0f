#pragma once
// The control socket: AF_UNIX stream, one request per connection (its first line the command,
// the rest a body, ended by the client's shutdown(SHUT_WR)), one reply, close.
// Only root may talk to it: the server checks the peer's uid with SO_PEERCRED on every
// connection (the socket file is also mode 0600), because reload and, later, mode changes go
// through it.

#include <sys/types.h>

#include <string>

#include "hashdb/result.h"
#include "hashdb/unique_fd.h"

namespace lockd::os {

// Longest request accepted (command line and body); longer requests are refused (the rest is
// not read).
inline constexpr std::size_t kMaxControlRequest = 16 * 1024;

struct ControlPeer {
  hashdb::UniqueFd fd;
  pid_t pid = 0;
  uid_t uid = 0;
};

class ControlServer {
 public:
  // Creates the directory of path if missing (mode 0700), removes a stale socket file, binds,
  // sets mode 0600 and listens.
  static hashdb::Result<ControlServer> Listen(const std::string& path);
  ~ControlServer();
  ControlServer(ControlServer&& other) noexcept;
  ControlServer& operator=(ControlServer&&) = delete;

  // Accepts one connection (non-blocking listen fd: kNotFound when none is pending) and reads
  // its peer credentials. The accepted fd has 1 s send/receive timeouts so a silent client
  // cannot hold the server.
  hashdb::Result<ControlPeer> Accept();
  // Reads one whole request from a peer: everything until the peer shuts down its write side
  // (at most kMaxControlRequest bytes, else kFormat), with the final newline removed. The
  // accepted fd's receive timeout bounds a client that never shuts down (an error).
  static hashdb::Result<std::string> ReadRequest(int fd);
  // Writes the reply (best effort).
  static void Reply(int fd, const std::string& reply);

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  ControlServer(hashdb::UniqueFd fd, std::string path)
      : fd_(std::move(fd)), path_(std::move(path)) {}
  hashdb::UniqueFd fd_;
  std::string path_;
};

// Client side (lockctl): sends request (one line, or a command line and a body) and a newline,
// shuts down its write side, returns the whole reply. timeout_ms bounds each step. A request
// longer than kMaxControlRequest is refused here (kInvalidArgument), unsent.
hashdb::Result<std::string> ControlRequest(const std::string& socket_path,
                                           const std::string& request, int timeout_ms = 10000);

}  // namespace lockd::os
