#include "lockd/maintenance/learned_list.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

#include "hashdb/small_file.h"

namespace lockd::maintenance {

namespace {

constexpr std::size_t kMaxLearnedFile = 256u << 20;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool IsLearned(By by) { return by == By::kSession || by == By::kUpdater; }

std::string_view HowName(How how) {
  switch (how) {
    case How::kExec:
      return "exec";
    case How::kOpen:
      return "open";
    case How::kWrite:
      return "write";
    case How::kUpdater:
      return "updater";
  }
  return "exec";
}

std::optional<How> HowFromName(std::string_view name) {
  for (How h : {How::kExec, How::kOpen, How::kWrite, How::kUpdater}) {
    if (HowName(h) == name) return h;
  }
  return std::nullopt;
}

namespace {

std::string Hex(const std::string& raw) {
  return hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
}

// Lower-case hex into raw bytes; false when not hex.
bool Unhex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

std::string FormatLearnedLine(const LearnedLine& line) {
  std::string out = line.digest ? hashdb::ToHex(*line.digest) : std::string("-");
  out += '\t';
  out += HowName(line.how);
  out += '\t';
  out += ByName(line.by);
  out += '\t' + std::to_string(line.pid);
  out += '\t' + (line.uid < 0 ? std::string("-") : std::to_string(line.uid));
  out += '\t' + (line.exe.empty() ? std::string("-") : Hex(line.exe));
  out += '\t' + Hex(line.path);
  out += '\n';
  return out;
}

hashdb::Result<LearnedLine> ParseLearnedLine(std::string_view text, const std::string& source,
                                             std::size_t line_no) {
  auto bad = [&](const std::string& why) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             source + ":" + std::to_string(line_no) + ": " + why);
  };
  std::array<std::string_view, 7> f;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto tab = i + 1 < f.size() ? text.find('\t') : std::string_view::npos;
    if (i + 1 < f.size() && tab == std::string_view::npos) {
      return bad("expected <sha256|->\\t<how>\\t<by>\\t<pid>\\t<uid|->\\t<hex exe|->\\t<hex path>");
    }
    f[i] = text.substr(0, tab);
    if (tab != std::string_view::npos) text.remove_prefix(tab + 1);
  }
  LearnedLine line;
  if (f[0] != "-") {
    line.digest = hashdb::DigestFromHex(f[0]);
    if (!line.digest) return bad("expected a SHA-256 in hex or \"-\"");
  }
  auto how = HowFromName(f[1]);
  if (!how) return bad("expected how: exec, open, write or updater");
  line.how = *how;
  auto by = ByFromName(f[2]);
  if (!by) return bad("expected by: session, updater, other or unknown");
  line.by = *by;
  auto [pe, pec] = std::from_chars(f[3].data(), f[3].data() + f[3].size(), line.pid);
  if (f[3].empty() || pec != std::errc() || pe != f[3].data() + f[3].size() || line.pid < 0) {
    return bad("expected a pid");
  }
  if (f[4] != "-") {
    auto [ue, uec] = std::from_chars(f[4].data(), f[4].data() + f[4].size(), line.uid);
    if (f[4].empty() || uec != std::errc() || ue != f[4].data() + f[4].size() || line.uid < 0) {
      return bad("expected a uid or \"-\"");
    }
  }
  if (f[5] != "-" && (f[5].empty() || !Unhex(f[5], line.exe))) {
    return bad("expected the executable in lower-case hex or \"-\"");
  }
  if (f[6].empty() || !Unhex(f[6], line.path)) return bad("expected the path in lower-case hex");
  if (line.path[0] != '/') return bad("expected an absolute path");
  return line;
}

hashdb::Result<std::vector<LearnedLine>> ParseLearnedList(std::string_view text,
                                                          const std::string& source) {
  std::vector<LearnedLine> out;
  std::size_t line_no = 0;
  for (;;) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) break;  // empty rest, or a torn last line
    ++line_no;
    auto line = ParseLearnedLine(text.substr(0, nl), source, line_no);
    if (!line.ok()) return line.error();
    out.push_back(std::move(*line));
    text.remove_prefix(nl + 1);
  }
  return out;
}

hashdb::Result<LearnedList> LearnedList::Open(const std::string& path, bool truncate) {
  std::set<std::tuple<How, By, std::string>> seen;
  std::uint64_t learned = 0;
  if (!truncate) {
    auto text = hashdb::ReadSmallFile(path, kMaxLearnedFile);
    if (text.ok()) {
      // A resumed session: a torn last line is cut off so the next line starts clean.
      std::string_view complete = *text;
      complete = complete.substr(0, complete.rfind('\n') + 1);
      auto lines = ParseLearnedList(complete, path);
      if (!lines.ok()) return lines.error();
      for (auto& l : *lines) {
        if (seen.emplace(l.how, l.by, std::move(l.path)).second && IsLearned(l.by)) ++learned;
      }
      if (complete.size() != text->size() &&
          ::truncate(path.c_str(), static_cast<off_t>(complete.size())) != 0) {
        return hashdb::ErrnoError("truncate " + path);
      }
    } else if (text.error().code != hashdb::ErrorCode::kNotFound) {
      return text.error();
    }
  }
  const int flags =
      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0);
  hashdb::UniqueFd fd(::open(path.c_str(), flags, 0600));
  if (!fd.valid()) return hashdb::ErrnoError(path);
  LearnedList list(path, std::move(fd));
  list.seen_ = std::move(seen);
  list.learned_ = learned;
  return list;
}

hashdb::Result<bool> LearnedList::Add(const LearnedLine& line) {
  if (!seen_.emplace(line.how, line.by, line.path).second) return false;
  const std::string text = FormatLearnedLine(line);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd_.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      seen_.erase({line.how, line.by, line.path});
      return hashdb::ErrnoError("append to " + path_);
    }
    off += static_cast<std::size_t>(n);
  }
  if (IsLearned(line.by)) ++learned_;
  return true;
}

}  // namespace lockd::maintenance
