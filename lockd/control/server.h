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
//                                               authorized challenge's argument; the
//                                               requesting process's login session and the
//                                               process that ran it are the maintenance
//                                               session (lockd/maintenance/session.h)
//   maintenance-status [--json]                 the window: state, session, token, start, end,
//                                               learned-file count and the learned list's path
//   maintenance-finish <db path> + authorization  install the re-baselined database (argument:
//                                               its SHA-256), load it, back to its policy mode
//   maintenance-abort         + authorization   back to the policy mode with the old database
//   db-install <db path>      + authorization   install and load a database (argument: SHA-256)
//   trust-add <pem path>      + authorization   add a trust anchor (argument: its key id)
//   trust-retire <key id hex> + authorization   retire one (argument: its key id); never the last
//   quarantine [--remove]     + body            copy a file into a non-executable archive
//                                               (lockd/quarantine/quarantine.h); body: two
//                                               lines, the file's path and the output
//                                               directory, each as lower-case hex of its
//                                               bytes; root only, like status (no token)
//
// "+ authorization" means the body is the lockd-authorization-v1 text the token produced for a
// challenge this lockd issued for that act and argument. Every refusal names the check that
// failed (hashdb::AuthzCheckName) and is written to the audit log (authz_refused).
//
// Details both sides rely on:
//   - Words of the command line are separated by single spaces; paths are absolute and
//     contain no space or control character (lockctl puts them under <state_dir>/staging/).
//   - Challenge arguments: maintenance_start: minutes 1..1440 (decimal, no sign or leading
//     zero); maintenance_abort: none; maintenance_finish, db_install: 64 lower-case hex (the
//     SHA-256 of the file's bytes); trust_add, trust_retire: 64 lower-case hex (key id).
//     leave_enforce has no command here and gets no challenge.
//   - maintenance-finish / db-install: lockd opens the file once, hashes the bytes it read,
//     verifies those same bytes; the new generation must be greater than the one in force.
//   - Replies to authorized commands: "ok" and a one-line summary; "refused" and the reason
//     ("authorization refused: <check>: ...", "not in maintenance", ...); "error" for a
//     malformed request or an I/O failure.
//   - maintenance-status --json members: state ("active" | "inactive"), session,
//     token {token_id, holder, organisation, key_id}, start, end (RFC 3339), start_unix,
//     end_unix, learned_list (path), learned_count, baseline_roots [..],
//     baseline_excludes [..], trusted_updaters [..], database {path, generation}.
//   - The learned list (<state_dir>/maintenance/learned, root-only, truncated at
//     maintenance-start, appended during the window): one line per file and way it was seen,
//       <sha256 hex, or "-">\t<how>\t<path as lower-case hex of its bytes>\n
//     how: exec (ran or was loaded and is not in the database), write (created or changed,
//     closed after writing), updater (written by a trusted updater whose executable's digest
//     is in the database). A path can appear with several hows; a last line without "\n" is
//     torn by a crash and must be ignored.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "hashdb/authorization.h"
#include "hashdb/unique_fd.h"
#include "lockd/control/socket.h"

namespace lockd {

struct ControlReply {
  enum class Code { kOk, kRefused, kError } code = Code::kOk;
  std::string body;
};

// A token-authorized command after parsing: which act it is, its operand from the command line
// (a path, a key id, or "") and the authorization text (the body, not yet checked).
struct ActRequest {
  hashdb::Act act = hashdb::Act::kMaintenanceStart;
  std::string operand;
  std::string authorization;
  // The requesting process (SO_PEERCRED): maintenance-start takes the maintenance session
  // from it (lockd/maintenance/session.h). 0 when unknown.
  pid_t peer_pid = 0;
};

// A quarantine request after parsing (lockd/quarantine/quarantine.h does it).
struct QuarantineRequest {
  std::string path;     // absolute, raw bytes
  std::string out_dir;  // absolute, raw bytes
  bool remove = false;
};

// Handlers for the commands; each may be empty (the command is then answered "error: not
// available"). They run on the control thread, one request at a time.
struct ControlHandlers {
  std::function<std::string(bool json)> status;
  std::function<ControlReply()> reload;
  // The argument has been validated (ValidateActArgument).
  std::function<ControlReply(hashdb::Act act, const std::string& argument)> challenge;
  std::function<std::string(bool json)> maintenance_status;
  // The operand's form has been checked; the authorization is non-empty text.
  std::function<ControlReply(const ActRequest& request)> act;
  // Both paths absolute, without NUL.
  std::function<ControlReply(const QuarantineRequest& request)> quarantine;
};

class ControlServerThread {
 public:
  ControlServerThread(os::ControlServer server, ControlHandlers handlers);
  ~ControlServerThread();  // stops and joins
  ControlServerThread(const ControlServerThread&) = delete;
  ControlServerThread& operator=(const ControlServerThread&) = delete;

  void Stop();
  // Pure dispatch, for tests: the reply to one request (command line, then the body) from a
  // peer with this uid and pid. Checks the command's form and operands before calling a
  // handler.
  static ControlReply Handle(const std::string& request, uid_t uid, const ControlHandlers& handlers,
                             pid_t pid = 0);
  static std::string Encode(const ControlReply& reply);

 private:
  void Run();
  os::ControlServer server_;
  ControlHandlers handlers_;
  hashdb::UniqueFd stop_fd_;  // eventfd
  std::thread thread_;
};

}  // namespace lockd
