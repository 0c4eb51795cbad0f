#include "lockd/maintenance/session.h"

#include <charconv>

namespace lockd::maintenance {

namespace {

template <typename T>
bool Number(std::string_view text, T& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

}  // namespace

hashdb::Result<SessionOrigin> OriginOf(pid_t requester, pid_t self,
                                       const os::ProcessSource& procs) {
  auto req = procs.Read(requester);
  if (!req) {
    return hashdb::MakeError(
        hashdb::ErrorCode::kNotFound,
        "the requesting process " + std::to_string(requester) + " cannot be read from /proc");
  }
  SessionOrigin o;
  o.requester = requester;
  o.login_session = req->login_session;
  o.origin = req->pid;
  o.origin_start = req->start_time;
  if (req->ppid > 1) {
    auto parent = procs.Read(req->ppid);
    if (parent && parent->pid != self) {
      o.origin = parent->pid;
      o.origin_start = parent->start_time;
    }
  }
  return o;
}

std::string_view ByName(By by) {
  switch (by) {
    case By::kSession:
      return "session";
    case By::kUpdater:
      return "updater";
    case By::kOther:
      return "other";
    case By::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<By> ByFromName(std::string_view name) {
  for (By b : {By::kSession, By::kUpdater, By::kOther, By::kUnknown}) {
    if (ByName(b) == name) return b;
  }
  return std::nullopt;
}

By Attribute(pid_t pid, const SessionOrigin& origin, const os::ProcessSource& procs) {
  auto node = procs.Read(pid);
  if (!node) return By::kUnknown;
  if (origin.login_session && node->login_session == origin.login_session) return By::kSession;
  if (origin.origin <= 0) return By::kOther;
  for (int depth = 0; depth < kMaxAncestry; ++depth) {
    if (node->pid == origin.origin && node->start_time == origin.origin_start) {
      return By::kSession;
    }
    // A descendant never started before its ancestor: past the origin's start, stop.
    if (node->ppid <= 1 || node->ppid == node->pid || node->start_time < origin.origin_start) {
      return By::kOther;
    }
    const pid_t parent = node->ppid;
    node = procs.Read(parent);
    // An ancestor gone in the middle of the walk (its child is being reparented): undecided.
    if (!node) return By::kUnknown;
  }
  return By::kOther;
}

std::string SerializeOrigin(const SessionOrigin& o) {
  std::string out = "requester: " + std::to_string(o.requester) + "\n";
  out += "origin: " + std::to_string(o.origin) + " " + std::to_string(o.origin_start) + "\n";
  out += "login_session: " + (o.login_session ? std::to_string(*o.login_session) : "-") + "\n";
  return out;
}

hashdb::Status ParseOriginLine(std::string_view key, std::string_view value, SessionOrigin& o) {
  auto bad = [&](const std::string& expected) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             std::string(key) + ": expected " + expected);
  };
  if (key == "requester") {
    if (!Number(value, o.requester) || o.requester < 0) return bad("a pid");
    return {};
  }
  if (key == "origin") {
    const auto space = value.find(' ');
    if (space == std::string_view::npos || !Number(value.substr(0, space), o.origin) ||
        o.origin < 0 || !Number(value.substr(space + 1), o.origin_start)) {
      return bad("a pid and its start time");
    }
    return {};
  }
  if (key == "login_session") {
    if (value == "-") {
      o.login_session.reset();
      return {};
    }
    std::uint32_t id = 0;
    if (!Number(value, id) || id == 0xffffffffu) return bad("a login session id or \"-\"");
    o.login_session = id;
    return {};
  }
  return bad("requester, origin or login_session");
}

}  // namespace lockd::maintenance
