#include "tools/log/summary.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "tools/output.h"

namespace lockctl::logsummary {
namespace {

// Where installed software lives on a Debian-like terminal (besides the baseline roots).
constexpr const char* kSystemDirs[] = {"/usr",   "/opt",    "/bin", "/sbin", "/lib", "/lib32",
                                       "/lib64", "/libx32", "/etc", "/boot", "/srv"};
// Places any process or person can write to, and removable media: code found there was not
// installed.
constexpr const char* kWritableDirs[] = {"/tmp",  "/var/tmp", "/dev/shm",  "/run/user",
                                         "/home", "/root",    "/media",    "/run/media",
                                         "/mnt",  "/run/shm", "/var/crash"};

enum class Place { kSoftware, kWritable, kOther };

struct Location {
  Place place = Place::kOther;
  std::string dir;             // the directory that decided
  bool baseline_root = false;  // dir is a baseline root
};

std::string Trimmed(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

bool Under(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

Location Locate(const std::string& path, const Context& ctx) {
  Location best;
  std::size_t best_len = 0;
  bool found = false;
  auto consider = [&](const std::string& dir, Place place, bool root, bool wins_ties) {
    if (!Under(path, dir)) return;
    if (found && (dir.size() < best_len || (dir.size() == best_len && !wins_ties))) return;
    best = Location{place, dir, root};
    best_len = dir.size();
    found = true;
  };
  for (const char* d : kSystemDirs) consider(d, Place::kSoftware, false, false);
  for (const char* d : kWritableDirs) consider(d, Place::kWritable, false, false);
  // A configured baseline root wins over a built-in directory of the same length.
  for (const auto& r : ctx.baseline_roots) consider(Trimmed(r), Place::kSoftware, true, true);
  return best;
}

// The baseline_excludes pattern that skips path or one of its directories, or "".
std::string ExcludedBy(const std::string& path, const std::vector<std::string>& excludes) {
  for (const auto& pattern : excludes) {
    for (std::size_t i = 1; i <= path.size(); ++i) {
      if (i < path.size() && path[i] != '/') continue;
      if (::fnmatch(pattern.c_str(), path.substr(0, i).c_str(), 0) == 0) return pattern;
    }
  }
  return "";
}

bool PersonUid(const std::string& uid) {
  long v = -1;
  const auto [ptr, ec] = std::from_chars(uid.data(), uid.data() + uid.size(), v);
  return ec == std::errc() && ptr == uid.data() + uid.size() && v >= 1000 && v != 65534;
}

std::string Times(std::uint64_t n) { return n == 1 ? "once" : std::to_string(n) + " times"; }

std::string Uids(const Group& g) {
  std::string s;
  for (const auto& [uid, n] : g.uids) {
    s += (s.empty() ? "" : ", ") + (uid.empty() ? std::string("?") : EscapeText(uid));
  }
  return (g.uids.size() == 1 ? "uid " : "uids ") + s;
}

std::string Programs(const Group& g) {
  std::string s;
  for (const auto& [exe, n] : g.programs) s += (s.empty() ? "" : ", ") + EscapeText(exe);
  if (g.more_programs) s += ", ...";
  return s.empty() ? "an unknown program" : s;
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kInvestigate:
      return "investigate";
    case Action::kCheck:
      return "check";
    case Action::kKeepBlocked:
      return "keep-blocked";
    case Action::kReview:
      return "review";
    case Action::kAddToBaseline:
      return "add-to-baseline";
    case Action::kNone:
      return "none";
  }
  return "review";
}

Proposal Propose(const Group& g, const Context& ctx) {
  const std::string seen = "seen " + Times(g.count) + ", " + Uids(g);
  if (g.modes == std::set<std::string>{"maintenance"}) {
    return {Action::kNone,
            "seen only inside maintenance windows, which allow and learn what is installed: a "
            "finished window took it into the database it signed"};
  }
  if (g.reasons.count("untrusted-filesystem")) {
    return {Action::kKeepBlocked,
            "it runs from a FUSE or network filesystem, which the policy refuses whatever the "
            "content (deny_untrusted_fs): install the program on a local filesystem instead"};
  }
  if (g.reasons.count("writable-by-user")) {
    return {Action::kKeepBlocked,
            "its content is allowlisted, but the file is not owned by root (or a trusted owner) "
            "or group or others may write it, so its owner could rewrite it after the check "
            "(deny_user_writable): install it owned by root, not writable by group or others"};
  }
  for (const char* r : {"read-failed", "changed-while-hashing", "not-regular-file"}) {
    if (g.reasons.count(r)) {
      return {Action::kCheck, std::string("lockd could not hash a stable content (") + r +
                                  "): look at the file on the terminal before deciding"};
    }
  }
  if (g.sha256.empty()) {
    return {Action::kCheck,
            "the record has no SHA-256: look at the file on the terminal before deciding"};
  }
  const Location loc = Locate(g.path, ctx);
  if (loc.place == Place::kWritable) {
    return {Action::kInvestigate,
            "not installed software: " + seen + ", from " + EscapeText(loc.dir) +
                " (a writable place or removable media), run or read by " + Programs(g) +
                "; do not add it to the baseline, find out where it came from"};
  }
  if (ctx.database_paths) {
    auto it = ctx.database_paths->find(g.path);
    if (it != ctx.database_paths->end() && it->second != g.sha256) {
      return {Action::kReview,
              "the database in force has another content at this path (sha256 " +
                  it->second.substr(0, 16) +
                  "...): the file changed after the baseline was made, by an update outside a "
                  "maintenance window or by tampering; " +
                  seen + "; if the update is expected, take it in with a maintenance window"};
    }
  }
  if (loc.place == Place::kOther) {
    return {Action::kReview,
            "outside the software locations (baseline roots, /usr, /opt, ...) and not in a "
            "writable place; " +
                seen + ", run or read by " + Programs(g) +
                "; decide whether it belongs to the "
                "terminal's software"};
  }
  for (const auto& [uid, n] : g.uids) {
    if (PersonUid(uid)) {
      return {Action::kReview, "in a software location (" + EscapeText(loc.dir) +
                                   ") but run or read by a person's account (uid " +
                                   EscapeText(uid) +
                                   "); check that it belongs to the terminal's software "
                                   "before adding it"};
    }
  }
  std::string how;
  if (loc.baseline_root) {
    const std::string excluded = ExcludedBy(g.path, ctx.baseline_excludes);
    how = excluded.empty()
              ? "it is under the baseline root " + EscapeText(loc.dir) +
                    ", so the next maintenance window's finish (or a rebuilt golden image) "
                    "takes it in"
              : "it is under the baseline root " + EscapeText(loc.dir) +
                    " but baseline_excludes \"" + EscapeText(excluded) +
                    "\" skips it: change the excludes or build the image with it";
  } else {
    how = EscapeText(loc.dir) +
          " is not a baseline root: add its directory to baseline_roots before the next "
          "maintenance window, or build the golden image with it";
  }
  return {Action::kAddToBaseline, "part of the terminal's software: " + seen + ", from " +
                                      EscapeText(loc.dir) + ", run or read by " + Programs(g) +
                                      "; " + how};
}

void Summary::Add(const exporttool::BlockEvent& r) {
  if (r.repeat) ++repeat_records_;
  if (r.count == 0) return;
  const std::uint64_t n = r.count;
  denials_ += n;
  const std::string& first = r.first_time.empty() ? r.time : r.first_time;
  const std::string& last = r.last_time.empty() ? r.time : r.last_time;
  if (!first.empty() && (first_.empty() || first < first_)) first_ = first;
  if (last > last_) last_ = last;
  Group& g = groups_[{r.sha256, r.path}];
  if (g.count == 0) {
    g.sha256 = r.sha256;
    g.path = r.path;
  }
  g.count += n;
  if (r.repeat) {
    in_repeats_ += n;
    ++g.repeat_records;
    g.in_repeats += n;
  }
  if (!first.empty() && (g.first.empty() || first < g.first)) g.first = first;
  if (last > g.last) g.last = last;
  g.uids[r.uid] += n;
  if (auto it = g.programs.find(r.exe); it != g.programs.end()) {
    it->second += n;
  } else if (g.programs.size() < kMaxPrograms) {
    g.programs.emplace(r.exe, n);
  } else {
    g.more_programs = true;
  }
  if (!r.reason.empty()) g.reasons.insert(r.reason);
  if (!r.mode.empty()) g.modes.insert(r.mode);
  g.types.insert(r.type);
}

std::vector<Summary::Entry> Summary::Finish(const Context& ctx) const {
  std::map<std::string, std::uint64_t> paths_per_digest, digests_per_path;
  for (const auto& [key, g] : groups_) {
    if (!g.sha256.empty()) ++paths_per_digest[g.sha256];
    ++digests_per_path[g.path];
  }
  std::vector<Entry> out;
  for (const auto& [key, g] : groups_) {
    Entry e{g, Propose(g, ctx), g.sha256.empty() ? 0 : paths_per_digest[g.sha256],
            digests_per_path[g.path]};
    if (e.digests_at_path > 1 && e.proposal.action == Action::kAddToBaseline) {
      e.proposal.why += "; note: " + std::to_string(e.digests_at_path) +
                        " different contents were blocked at this path";
    }
    out.push_back(std::move(e));
  }
  std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if (a.proposal.action != b.proposal.action) return a.proposal.action < b.proposal.action;
    if (a.group.count != b.group.count) return a.group.count > b.group.count;
    return a.group.path < b.group.path;
  });
  return out;
}

std::string RenderText(const Summary& s, const std::vector<Summary::Entry>& entries,
                       const RenderInfo& info) {
  std::ostringstream o;
  std::string types;
  for (const auto& t : info.types) types += (types.empty() ? "" : ", ") + t;
  o << types << ": " << s.denials() << " denial(s) in " << entries.size() << " group(s)";
  if (s.denials()) o << ", " << s.first() << " .. " << s.last();
  if (s.repeat_records()) {
    o << "\nrepeats:        " << s.in_repeats() << " of them counted in " << s.repeat_records()
      << " repeat record(s) (a flood folded by lockd: docs/audit-log.md, \"Repeats\")";
  }
  o << "\nlog:            ";
  for (std::size_t i = 0; i < info.files.size(); ++i) {
    o << (i ? " " : "") << EscapeText(info.files[i]);
  }
  o << "\nbaseline roots: ";
  if (info.baseline_roots.empty()) {
    o << "(none)";
  } else {
    for (std::size_t i = 0; i < info.baseline_roots.size(); ++i) {
      o << (i ? " " : "") << EscapeText(info.baseline_roots[i]);
    }
  }
  o << " (" << (info.config.empty() ? "no configuration read" : EscapeText(info.config)) << ")\n"
    << "database:       " << (info.database.empty() ? "not read" : info.database) << "\n";
  if (info.unreadable_lines) {
    o << "note:           " << info.unreadable_lines
      << " line(s) are not records (run `lockctl log verify`)\n";
  }
  std::map<Action, std::uint64_t> per_action;
  for (const auto& e : entries) {
    ++per_action[e.proposal.action];
    const Group& g = e.group;
    o << "\n" << ActionName(e.proposal.action) << "  " << EscapeText(g.path) << "\n";
    o << "  sha256:  " << (g.sha256.empty() ? "(not hashed)" : g.sha256);
    if (e.paths_with_digest > 1) o << " (blocked at " << e.paths_with_digest << " paths)";
    o << "\n  seen:    " << Times(g.count);
    if (g.repeat_records) {
      o << " (" << g.in_repeats << " in " << g.repeat_records << " repeat record"
        << (g.repeat_records == 1 ? "" : "s") << ")";
    }
    o << ", " << g.first;
    if (g.count > 1) o << " .. " << g.last;
    o << "\n  uid:     ";
    bool first = true;
    for (const auto& [uid, n] : g.uids) {
      o << (first ? "" : ", ") << (uid.empty() ? std::string("?") : EscapeText(uid)) << " (" << n
        << ")";
      first = false;
    }
    o << "\n  by:      ";
    first = true;
    for (const auto& [exe, n] : g.programs) {
      o << (first ? "" : ", ") << EscapeText(exe) << " (" << n << ")";
      first = false;
    }
    if (g.more_programs) o << ", ...";
    o << "\n  records: ";
    first = true;
    for (const auto& t : g.types) {
      o << (first ? "" : ", ") << t;
      first = false;
    }
    for (const auto& r : g.reasons) o << ", " << EscapeText(r);
    for (const auto& m : g.modes) o << ", mode " << EscapeText(m);
    o << "\n  why:     " << e.proposal.why << "\n";
  }
  o << "\nproposals:";
  if (per_action.empty()) o << " none (nothing was blocked)";
  bool first = true;
  for (const auto& [a, n] : per_action) {
    o << (first ? " " : ", ") << n << " " << ActionName(a);
    first = false;
  }
  o << "\n";
  return o.str();
}

std::string RenderJson(const Summary& s, const std::vector<Summary::Entry>& entries,
                       const RenderInfo& info) {
  auto list = [](const auto& items) {
    std::string o = "[";
    bool first = true;
    for (const auto& i : items) {
      o += (first ? "" : ",") + JsonString(i);
      first = false;
    }
    return o + "]";
  };
  std::ostringstream o;
  o << "{\"schema\":\"lockd-log-summary/2\",\"types\":" << list(info.types)
    << ",\"files\":" << list(info.files)
    << ",\"config\":" << (info.config.empty() ? "null" : JsonString(info.config))
    << ",\"baseline_roots\":" << list(info.baseline_roots)
    << ",\"database\":" << (info.database.empty() ? "null" : JsonString(info.database))
    << ",\"denials\":" << s.denials() << ",\"repeat_records\":" << s.repeat_records()
    << ",\"in_repeats\":" << s.in_repeats() << ",\"first\":" << JsonString(s.first())
    << ",\"last\":" << JsonString(s.last()) << ",\"unreadable_lines\":" << info.unreadable_lines
    << ",\"groups\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const Group& g = e.group;
    o << (i ? "," : "") << "{\"action\":" << JsonString(ActionName(e.proposal.action))
      << ",\"why\":" << JsonString(e.proposal.why) << "," << JsonBytesMember("path", g.path)
      << ",\"sha256\":" << (g.sha256.empty() ? "null" : JsonString(g.sha256))
      << ",\"count\":" << g.count << ",\"repeat_records\":" << g.repeat_records
      << ",\"in_repeats\":" << g.in_repeats << ",\"first\":" << JsonString(g.first)
      << ",\"last\":" << JsonString(g.last) << ",\"uids\":{";
    bool first = true;
    for (const auto& [uid, n] : g.uids) {
      o << (first ? "" : ",") << JsonString(uid) << ":" << n;
      first = false;
    }
    o << "},\"programs\":[";
    first = true;
    for (const auto& [exe, n] : g.programs) {
      o << (first ? "" : ",") << "{" << JsonBytesMember("exe", exe) << ",\"count\":" << n << "}";
      first = false;
    }
    o << "],\"more_programs\":" << (g.more_programs ? "true" : "false")
      << ",\"types\":" << list(g.types) << ",\"reasons\":" << list(g.reasons)
      << ",\"modes\":" << list(g.modes) << ",\"paths_with_digest\":" << e.paths_with_digest
      << ",\"digests_at_path\":" << e.digests_at_path << "}";
  }
  o << "]}\n";
  return o.str();
}

}  // namespace lockctl::logsummary
