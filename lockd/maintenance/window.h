#pragma once
// The maintenance window: who opened it (the token's claims and key), when, until when. Kept
// in <state_dir>/maintenance/window (written atomically: temporary file, fsync, rename, fsync
// of the directory) so that a daemon restart inside the window resumes it until its end, and a
// restart after its end closes it with a maintenance_expired record: lockd never ends up
// unlocked forever, and never relocks in the middle of an update because it restarted.
//
// Times are wall-clock seconds since the epoch (the window must survive a reboot, which a
// monotonic clock does not). A clock set back cannot stretch a window: a window whose start
// lies more than kClockSlackSeconds in the future is treated as ended (fail closed).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockd::maintenance {

inline constexpr std::int64_t kClockSlackSeconds = 60;

struct Window {
  std::string session;  // 32 lower-case hex digits, random
  std::string token_id;
  std::string holder;
  std::string organisation;
  std::string key_id;  // hex of the anchor that signed
  std::int64_t start = 0;
  std::int64_t end = 0;  // first second outside the window
};

// Text form: "lockd-maintenance-window-v1" then "key: value" lines in a fixed order. Values
// come from a verified authorization (no control characters), and are checked again here.
std::string SerializeWindow(const Window& window);
hashdb::Result<Window> ParseWindow(std::string_view text, const std::string& source_name);

// What a window means at time now.
enum class WindowState {
  kOpen,            // start - slack <= now < end: maintenance mode
  kExpired,         // now >= end: close it (maintenance_expired)
  kClockBackwards,  // now < start - slack: the clock was set back; close it (fail closed)
};
WindowState StateAt(const Window& window, std::int64_t now);

// A fresh random session id (32 hex digits).
hashdb::Result<std::string> NewSessionId();

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
  // Moves an unreadable file aside (window.bad) so it is kept for inspection.
  void SetAside() const;

  const std::string& dir() const { return dir_; }
  std::string path() const { return dir_ + "/window"; }
  std::string learned_path() const { return dir_ + "/learned"; }

 private:
  std::string dir_;
};

}  // namespace lockd::maintenance
