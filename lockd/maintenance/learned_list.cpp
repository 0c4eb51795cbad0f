#include "lockd/maintenance/learned_list.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

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

std::string FormatLearnedLine(const LearnedLine& line) {
  std::string out = line.digest ? hashdb::ToHex(*line.digest) : std::string("-");
  out += '\t';
  out += HowName(line.how);
  out += '\t';
  out += hashdb::ToHex(reinterpret_cast<const std::uint8_t*>(line.path.data()), line.path.size());
  out += '\n';
  return out;
}

hashdb::Result<LearnedLine> ParseLearnedLine(std::string_view text, const std::string& source,
                                             std::size_t line_no) {
  auto bad = [&](const std::string& why) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             source + ":" + std::to_string(line_no) + ": " + why);
  };
  const auto t1 = text.find('\t');
  const auto t2 = t1 == std::string_view::npos ? t1 : text.find('\t', t1 + 1);
  if (t2 == std::string_view::npos) return bad("expected <sha256|->\\t<how>\\t<hex path>");
  LearnedLine line;
  const std::string_view digest = text.substr(0, t1);
  if (digest != "-") {
    line.digest = hashdb::DigestFromHex(digest);
    if (!line.digest) return bad("expected a SHA-256 in hex or \"-\"");
  }
  auto how = HowFromName(text.substr(t1 + 1, t2 - t1 - 1));
  if (!how) return bad("expected how: exec, open, write or updater");
  line.how = *how;
  const std::string_view hex = text.substr(t2 + 1);
  if (hex.empty() || hex.size() % 2 != 0) return bad("expected the path in hex");
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return bad("expected the path in lower-case hex");
    line.path.push_back(static_cast<char>(hi * 16 + lo));
  }
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
  std::set<std::pair<How, std::string>> seen;
  if (!truncate) {
    auto text = hashdb::ReadSmallFile(path, kMaxLearnedFile);
    if (text.ok()) {
      // A resumed session: a torn last line is cut off so the next line starts clean.
      std::string_view complete = *text;
      complete = complete.substr(0, complete.rfind('\n') + 1);
      auto lines = ParseLearnedList(complete, path);
      if (!lines.ok()) return lines.error();
      for (auto& l : *lines) seen.emplace(l.how, std::move(l.path));
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
  return list;
}

hashdb::Result<bool> LearnedList::Add(const LearnedLine& line) {
  if (!seen_.emplace(line.how, line.path).second) return false;
  const std::string text = FormatLearnedLine(line);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd_.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      seen_.erase({line.how, line.path});
      return hashdb::ErrnoError("append to " + path_);
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace lockd::maintenance
