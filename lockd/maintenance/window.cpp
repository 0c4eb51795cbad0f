#include "lockd/maintenance/window.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <span>

#include "hashdb/atomic_file.h"
#include "hashdb/digest.h"
#include "hashdb/small_file.h"
#include "hashdb/unique_fd.h"

namespace lockd::maintenance {

namespace {

constexpr std::string_view kMagic = "lockd-maintenance-window-v1";
constexpr std::size_t kMaxWindowFile = 8192;

bool CleanValue(std::string_view v) {
  if (v.size() > 256) return false;
  for (unsigned char c : v) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

hashdb::Error Bad(const std::string& source, std::size_t line, const std::string& why) {
  return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                           source + ":" + std::to_string(line) + ": " + why);
}

hashdb::Status MakeDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return hashdb::ErrnoError("mkdir " + dir);
  return {};
}

}  // namespace

std::string SerializeWindow(const Window& w) {
  std::string out(kMagic);
  out += "\nsession: " + w.session;
  out += "\ntoken_id: " + w.token_id;
  out += "\nholder: " + w.holder;
  out += "\norganisation: " + w.organisation;
  out += "\nkey_id: " + w.key_id;
  out += "\nstart: " + std::to_string(w.start);
  out += "\nend: " + std::to_string(w.end);
  out += "\n";
  return out;
}

hashdb::Result<Window> ParseWindow(std::string_view text, const std::string& source) {
  constexpr std::array<std::string_view, 7> kKeys{"session", "token_id", "holder", "organisation",
                                                  "key_id",  "start",    "end"};
  std::array<std::string, 7> values;
  std::size_t line_no = 0;
  auto next_line = [&](std::string_view& line) {
    if (text.empty()) return false;
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return false;  // a line must end: no torn last line
    line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line != kMagic) {
    return Bad(source, 1, "expected \"" + std::string(kMagic) + "\"");
  }
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    const std::string want = std::string(kKeys[i]) + ": ";
    if (!next_line(line) || line.substr(0, want.size()) != want) {
      return Bad(source, line_no + 1, "expected \"" + want + "<value>\"");
    }
    std::string_view v = line.substr(want.size());
    if (!CleanValue(v)) return Bad(source, line_no, std::string(kKeys[i]) + ": bad value");
    values[i] = std::string(v);
  }
  if (!text.empty()) return Bad(source, line_no + 1, "unexpected text after \"end\"");
  Window w;
  w.session = values[0];
  w.token_id = values[1];
  w.holder = values[2];
  w.organisation = values[3];
  w.key_id = values[4];
  auto number = [&](const std::string& s, std::int64_t& out, std::size_t at) -> hashdb::Status {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || out < 0) {
      return Bad(source, at, "expected seconds since the epoch");
    }
    return {};
  };
  HASHDB_TRY(number(values[5], w.start, 7));
  HASHDB_TRY(number(values[6], w.end, 8));
  if (w.session.size() != 32 || w.end <= w.start) {
    return Bad(source, 2, "session id or window bounds out of range");
  }
  return w;
}

WindowState StateAt(const Window& window, std::int64_t now) {
  if (now < window.start - kClockSlackSeconds) return WindowState::kClockBackwards;
  if (now >= window.end) return WindowState::kExpired;
  return WindowState::kOpen;
}

hashdb::Result<std::string> NewSessionId() {
  std::array<std::uint8_t, 16> bytes{};
  hashdb::UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("/dev/urandom");
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return hashdb::ErrnoError("/dev/urandom");
    off += static_cast<std::size_t>(n);
  }
  return hashdb::ToHex(bytes.data(), bytes.size());
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

void WindowStore::SetAside() const { (void)::rename(path().c_str(), (path() + ".bad").c_str()); }

}  // namespace lockd::maintenance
