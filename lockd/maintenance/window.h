#pragma once
// The maintenance window: who opened it (the token's signed authorization), when, until when.
// Kept in <state_dir>/maintenance/window (written atomically: temporary file, fsync, rename,
// fsync of the directory) so that a daemon restart inside the window resumes it until its end,
// and a restart after its end closes it with a maintenance_expired record: lockd never ends up
// unlocked forever, and never relocks in the middle of an update because it restarted.
//
// The file is not trusted as written (issue 12): it holds the lockd-authorization-v1 text the
// token signed for maintenance_start, and a window is resumed only when CheckResumable proves,
// against the trust anchors and this terminal's id, that this authorization opened exactly
// this window: signed by an anchor, for this terminal, for maintenance_start, the window
// accepted while its challenge was valid, ending no later than the authorized minutes after
// that (lockd writes exactly that end; an end edited to come sooner grants less and stands),
// and carrying the session id derived from the authorization. A hand-written window, one
// made longer, or a real authorization moved into another window is refused: enforce, and an
// audit record naming the check. What this cannot tell: whether the window was already closed
// (finish, abort) before a copy of its file was put back; such a copy ends no later than the
// window it copies (docs/threat-model.md).
//
// Times are wall-clock seconds since the epoch (the window must survive a reboot, which a
// monotonic clock does not). A clock set back cannot stretch a window: a window whose start
// lies more than kClockSlackSeconds in the future is treated as ended (fail closed).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hashdb/authorization.h"
#include "hashdb/result.h"
#include "hashdb/trust_store.h"
#include "lockd/maintenance/session.h"

namespace lockd::maintenance {

inline constexpr std::int64_t kClockSlackSeconds = 60;

struct Window {
  std::string session;     // 32 lower-case hex digits: SessionIdFor(authorization)
  std::int64_t start = 0;  // when lockd accepted the authorization
  std::int64_t end = 0;    // first second outside the window
  // Whose processes are the maintenance session (session.h): recorded at the start, kept
  // across a restart inside the window. Not covered by the token's signature (it is lockd's
  // own observation of who asked).
  SessionOrigin origin;
  // The signed maintenance_start authorization that opened the window (kept verbatim).
  hashdb::Authorization authorization;
  // From the authorization, for status and records (never read from the file on their own).
  std::string token_id;
  std::string holder;
  std::string organisation;
  std::string key_id;  // hex of the anchor that signed
};

// The session id of the window an authorization opens: the first 32 hex digits of SHA-256 over
// "lockd-maintenance-session-v1\0", the authorization's signed bytes and its signature. One
// authorization names one session (its nonce is random), so a stored authorization can resume
// only the window it opened, never stand behind another.
std::string SessionIdFor(const hashdb::Authorization& authorization);

// The window an accepted maintenance_start authorization opens at accepted (now): session from
// SessionIdFor, end = accepted + the signed minutes. kInvalidArgument when the authorization is
// not for maintenance_start or its minutes are not 1..kMaxMaintenanceMinutes.
hashdb::Result<Window> WindowFor(const hashdb::Authorization& authorization, std::int64_t accepted);

// Text form: "lockd-maintenance-window-v2", "session: ", "start: ", "end: ", "requester: ",
// "origin: " and "login_session: " lines (session.h), then a line "authorization:" followed by the
// authorization's own text (hashdb::SerializeAuthorization) to the end of the file. A v1 file
// (written by an older lockd, without the authorization) is refused with kUnsupported; anything
// else malformed with kFormat.
std::string SerializeWindow(const Window& window);
hashdb::Result<Window> ParseWindow(std::string_view text, const std::string& source_name);

// Why a window read back from disk may not be resumed. check is "" when it may; otherwise a
// stable name for the audit record: an hashdb::AuthzCheckName of the stored authorization
// checked again at the time the window started ("unknown key", "bad signature", "wrong
// terminal", "wrong act", "not yet valid" / "challenge expired": the window's start lies
// outside the challenge's validity, "token expired", "malformed"), "window end" (the end is
// later than start + the authorized minutes), or "session" (the session id is not the one the
// authorization names).
struct ResumeVerdict {
  std::string check;
  std::string message;
  bool ok() const { return check.empty(); }
};
ResumeVerdict CheckResumable(const Window& window, const std::string& terminal_id,
                             const hashdb::TrustStore& trust);

// What a window means at time now.
enum class WindowState {
  kOpen,            // start - slack <= now < end: maintenance mode
  kExpired,         // now >= end: close it (maintenance_expired)
  kClockBackwards,  // now < start - slack: the clock was set back; close it (fail closed)
};
WindowState StateAt(const Window& window, std::int64_t now);

// The window file in state_dir/maintenance/.
class WindowStore {
 public:
  explicit WindowStore(std::string state_dir);
  // nullopt when no window is recorded. A file that does not parse is an error (the caller
  // closes the window and logs it: fail closed).
  hashdb::Result<std::optional<Window>> Load() const;
  // Atomic replace; creates state_dir/maintenance (0700) if missing.
  hashdb::Status Save(const Window& window) const;
  // Removes the file and fsyncs the directory; absent is fine.
  hashdb::Status Remove() const;
  // Moves a file that is not resumed aside (window.bad: unreadable, window.refused: failed
  // CheckResumable) so it is kept for inspection and not looked at again.
  void SetAside(const std::string& suffix = ".bad") const;

  const std::string& dir() const { return dir_; }
  std::string path() const { return dir_ + "/window"; }
  std::string learned_path() const { return dir_ + "/learned"; }

 private:
  std::string dir_;
};

}  // namespace lockd::maintenance
