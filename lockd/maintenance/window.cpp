#include "lockd/maintenance/window.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <span>
#include <vector>

#include "hashdb/atomic_file.h"
#include "hashdb/digest.h"
#include "hashdb/sha256.h"
#include "hashdb/small_file.h"
#include "hashdb/unique_fd.h"
#include "lockd/control/authorizer.h"
#include "lockd/decision_sink.h"

namespace lockd::maintenance {

namespace {

constexpr std::string_view kMagic = "lockd-maintenance-window-v2";
constexpr std::string_view kMagicV1 = "lockd-maintenance-window-v1";
constexpr std::string_view kSessionDomain{"lockd-maintenance-session-v1\0", 29};
// The window lines and the authorization text (at most hashdb::kMaxAuthorizationText).
constexpr std::size_t kMaxWindowFile = 16384;

hashdb::Error Bad(const std::string& source, std::size_t line, const std::string& why) {
  return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                           source + ":" + std::to_string(line) + ": " + why);
}

hashdb::Status MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return hashdb::ErrnoError("mkdir " + dir);
  return {};
}

void FillFromAuthorization(Window& w) {
  const auto& t = w.authorization.token;
  w.token_id = t.token_id;
  w.holder = t.holder;
  w.organisation = t.organisation;
  w.key_id = hashdb::ToHex(w.authorization.key_id);
}

std::string Rfc3339(std::int64_t seconds) {
  std::string t = FormatTimeUtc(seconds * 1000000000);
  if (auto dot = t.find('.'); dot != std::string::npos) t = t.substr(0, dot) + "Z";
  return t;
}

}  // namespace

std::string SessionIdFor(const hashdb::Authorization& a) {
  std::vector<std::uint8_t> bytes(kSessionDomain.begin(), kSessionDomain.end());
  const auto signed_bytes = hashdb::CanonicalBytes(a.challenge, a.token, a.key_id);
  bytes.insert(bytes.end(), signed_bytes.begin(), signed_bytes.end());
  bytes.insert(bytes.end(), a.signature.begin(), a.signature.end());
  return hashdb::ToHex(hashdb::Sha256(bytes)).substr(0, 32);
}

hashdb::Result<Window> WindowFor(const hashdb::Authorization& a, std::int64_t accepted) {
  if (a.challenge.act != hashdb::Act::kMaintenanceStart) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "a window is opened by a maintenance_start authorization, not " +
                                 std::string(hashdb::ActName(a.challenge.act)));
  }
  const auto minutes = ParseMaintenanceMinutes(a.challenge.argument);
  if (!minutes) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument,
                             "window length \"" + a.challenge.argument + "\" is not 1 to " +
                                 std::to_string(kMaxMaintenanceMinutes) + " minutes");
  }
  Window w;
  w.authorization = a;
  w.session = SessionIdFor(a);
  w.start = accepted;
  w.end = accepted + static_cast<std::int64_t>(*minutes) * 60;
  FillFromAuthorization(w);
  return w;
}

std::string SerializeWindow(const Window& w) {
  std::string out(kMagic);
  out += "\nsession: " + w.session;
  out += "\nstart: " + std::to_string(w.start);
  out += "\nend: " + std::to_string(w.end) + "\n";
  out += SerializeOrigin(w.origin);
  out += "authorization:\n";
  out += hashdb::SerializeAuthorization(w.authorization);
  return out;
}

hashdb::Result<Window> ParseWindow(std::string_view text, const std::string& source) {
  if (text.size() > kMaxWindowFile) {
    return Bad(source, 1, "longer than " + std::to_string(kMaxWindowFile) + " bytes");
  }
  std::size_t line_no = 0;
  auto next_line = [&](std::string_view& line) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return false;  // a line must end: no torn last line
    line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(line)) return Bad(source, 1, "expected \"" + std::string(kMagic) + "\"");
  if (line == kMagicV1) {
    return hashdb::MakeError(hashdb::ErrorCode::kUnsupported,
                             source +
                                 ":1: a window recorded by an older lockd, without the "
                                 "token's authorization: it cannot be verified");
  }
  if (line != kMagic) return Bad(source, 1, "expected \"" + std::string(kMagic) + "\"");
  auto field = [&](std::string_view key, std::string& out) -> hashdb::Status {
    const std::string want = std::string(key) + ": ";
    if (!next_line(line) || line.substr(0, want.size()) != want) {
      return Bad(source, line_no + 1, "expected \"" + want + "<value>\"");
    }
    out = std::string(line.substr(want.size()));
    return {};
  };
  auto number = [&](std::string_view key, std::int64_t& out) -> hashdb::Status {
    std::string v;
    HASHDB_TRY(field(key, v));
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size() || out < 0) {
      return Bad(source, line_no, std::string(key) + ": expected seconds since the epoch");
    }
    return {};
  };
  Window w;
  HASHDB_TRY(field("session", w.session));
  if (w.session.size() != 32 ||
      w.session.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Bad(source, line_no, "session: expected 32 lower-case hex digits");
  }
  HASHDB_TRY(number("start", w.start));
  HASHDB_TRY(number("end", w.end));
  if (w.end <= w.start) return Bad(source, line_no, "end: not after start");
  for (std::string_view key : {"requester", "origin", "login_session"}) {
    std::string value;
    HASHDB_TRY(field(key, value));
    if (auto st = ParseOriginLine(key, value, w.origin); !st.ok()) {
      return Bad(source, line_no, st.error().message);
    }
  }
  if (!next_line(line) || line != "authorization:") {
    return Bad(source, line_no + 1, "expected \"authorization:\"");
  }
  if (text.empty() || text.back() != '\n') {
    return Bad(source, line_no + 1, "the authorization's last line is torn (no newline)");
  }
  auto a = hashdb::ParseAuthorization(
      text, source + " (authorization, from line " + std::to_string(line_no + 1) + ")");
  if (!a.ok()) return a.error();
  w.authorization = std::move(*a);
  FillFromAuthorization(w);
  return w;
}

ResumeVerdict CheckResumable(const Window& w, const std::string& terminal_id,
                             const hashdb::TrustStore& trust) {
  const hashdb::Authorization& a = w.authorization;
  // The authorization as it was when lockd accepted it: at the window's start.
  hashdb::AuthzRequest request{terminal_id, hashdb::Act::kMaintenanceStart, a.challenge.argument,
                               w.start};
  const hashdb::AuthzVerdict verdict = hashdb::CheckAuthorization(a, request, trust);
  if (!verdict.ok()) {
    std::string why = verdict.message;
    if (verdict.check == hashdb::AuthzCheck::kNotYetValid ||
        verdict.check == hashdb::AuthzCheck::kChallengeExpired) {
      why += " (at the window's start, " + Rfc3339(w.start) + ")";
    }
    return {std::string(hashdb::AuthzCheckName(verdict.check)), why};
  }
  const auto minutes = ParseMaintenanceMinutes(a.challenge.argument);
  if (!minutes) {
    return {std::string(hashdb::AuthzCheckName(hashdb::AuthzCheck::kMalformed)),
            "window length \"" + a.challenge.argument + "\" is not a number of minutes"};
  }
  const std::int64_t granted = w.start + static_cast<std::int64_t>(*minutes) * 60;
  // Later than granted: refused. Earlier (the file edited to end the window sooner) grants
  // less than the token did, so it stands: lockd itself never writes one.
  if (w.end > granted) {
    return {"window end", "the window ends " + Rfc3339(w.end) + ", the authorization granted " +
                              std::to_string(*minutes) + " minute(s) from " + Rfc3339(w.start) +
                              ", until " + Rfc3339(granted)};
  }
  if (const std::string expected = SessionIdFor(a); w.session != expected) {
    return {"session",
            "the window names session " + w.session + ", the authorization opened " + expected};
  }
  return {};
}

WindowState StateAt(const Window& window, std::int64_t now) {
  if (now < window.start - kClockSlackSeconds) return WindowState::kClockBackwards;
  if (now >= window.end) return WindowState::kExpired;
  return WindowState::kOpen;
}

WindowStore::WindowStore(std::string state_dir) : dir_(std::move(state_dir) + "/maintenance") {}

hashdb::Result<std::optional<Window>> WindowStore::Load() const {
  const std::string p = path();
  if (::access(p.c_str(), F_OK) != 0 && errno == ENOENT) return std::optional<Window>();
  auto text = hashdb::ReadSmallFile(p, kMaxWindowFile);
  if (!text.ok()) {
    if (text.error().code == hashdb::ErrorCode::kNotFound) return std::optional<Window>();
    return text.error();
  }
  auto w = ParseWindow(*text, p);
  if (!w.ok()) return w.error();
  return std::optional<Window>(std::move(*w));
}

hashdb::Status WindowStore::Save(const Window& window) const {
  const std::string parent = dir_.substr(0, dir_.rfind('/'));
  HASHDB_TRY(MakeDir(parent));
  HASHDB_TRY(MakeDir(dir_));
  const std::string text = SerializeWindow(window);
  auto status = hashdb::WriteFileAtomically(
      path(),
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size()),
      0600);
  if (!status.ok()) return status.error().Wrap(path());
  return {};
}

hashdb::Status WindowStore::Remove() const {
  if (::unlink(path().c_str()) != 0) {
    if (errno == ENOENT) return {};
    return hashdb::ErrnoError("unlink " + path());
  }
  hashdb::UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) return hashdb::ErrnoError("fsync " + dir_);
  return {};
}

void WindowStore::SetAside(const std::string& suffix) const {
  (void)::rename(path().c_str(), (path() + suffix).c_str());
}

}  // namespace lockd::maintenance
