#include "tools/maintenance/diff.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

#include "hashdb/digest.h"
#include "tools/output.h"

namespace lockctl {

namespace {

std::string Short(const hashdb::Digest& d) { return hashdb::ToHex(d).substr(0, 16); }

std::string UserName(long uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (uid >= 0 && ::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr) {
    return found->pw_name;
  }
  return "";
}

std::string GroupName(long gid) {
  struct group gr {};
  struct group* found = nullptr;
  std::vector<char> buf(16384);
  if (gid >= 0 && ::getgrgid_r(static_cast<gid_t>(gid), &gr, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr) {
    return found->gr_name;
  }
  return "";
}

std::string Describe(const hashdb::FileEntry& e) {
  return std::string(hashdb::KindName(e.kind)) + ", " + HumanBytes(static_cast<double>(e.size)) +
         ", sha256 " + Short(e.digest) + ", owner " + OwnerText(e.uid, e.gid);
}

template <typename T, typename Line>
void Section(std::string& out, const std::string& title, const std::vector<T>& items,
             std::size_t limit, Line line, const std::string& subtitle = "") {
  if (items.empty()) return;
  out += title + " (" + std::to_string(items.size()) + ")" + subtitle + ":\n";
  const std::size_t shown = limit == 0 ? items.size() : std::min(limit, items.size());
  for (std::size_t i = 0; i < shown; ++i) out += line(items[i]);
  if (shown < items.size()) {
    out += "  ... and " + std::to_string(items.size() - shown) + " more (--full lists them all)\n";
  }
}

// The writer line of a taken file, or "".
std::string TakenFrom(const RescanResult* rescan, const std::string& path) {
  if (rescan == nullptr) return "";
  auto it = rescan->taken_from.find(path);
  if (it == rescan->taken_from.end()) return "";
  return "      " + WriterText(it->second, path) + "\n";
}

// At most this many writer lines per file not learned.
constexpr std::size_t kWritersShown = 3;

}  // namespace

std::string OwnerText(std::uint32_t uid, std::uint32_t gid) {
  const std::string user = UserName(uid), group = GroupName(gid);
  return (user.empty() ? std::to_string(uid) : EscapeText(user)) + ":" +
         (group.empty() ? std::to_string(gid) : EscapeText(group));
}

std::string WriterText(const LearnedWriter& w, const std::string& path) {
  const bool ran = w.how == "exec" || w.how == "open";
  std::string out = ran ? "run by " : "written by ";
  if (w.by == "session") {
    out += "the maintenance session";
  } else if (w.by == "updater") {
    out += "the trusted updater";
  } else if (w.by == "unknown") {
    out += "a process that had exited before lockd could tell whose it was";
  } else {
    out += "a process outside the maintenance session";
  }
  out += ": pid " + std::to_string(w.pid);
  if (w.uid >= 0) {
    const std::string name = UserName(w.uid);
    out += ", uid " + std::to_string(w.uid) + (name.empty() ? "" : " (" + EscapeText(name) + ")");
  }
  if (!w.exe.empty()) out += ", " + EscapeText(w.exe);
  if (w.path != path) out += ", as " + EscapeText(w.path);
  return out;
}

std::string DiffCounts(const hashdb::DatabaseDiff& d) {
  return std::to_string(d.added.size()) + " added, " + std::to_string(d.removed.size()) +
         " removed, " + std::to_string(d.changed.size()) + " changed, " +
         std::to_string(d.unchanged) + " unchanged";
}

std::string RenderDiff(const hashdb::DatabaseDiff& diff, std::size_t limit,
                       const RescanResult* rescan) {
  std::string out = "changes: " + DiffCounts(diff) + "\n";
  const bool not_learned = rescan != nullptr && !rescan->not_learned.empty();
  if (diff.empty()) {
    out +=
        "no file added, removed or changed: the new database allows exactly what the "
        "current one does\n";
  }
  Section(out, "added", diff.added, limit, [&](const hashdb::FileEntry& e) {
    return "  + " + EscapeText(e.path) + "  (" + Describe(e) + ")\n" + TakenFrom(rescan, e.path);
  });
  Section(out, "removed", diff.removed, limit, [](const hashdb::FileEntry& e) {
    return "  - " + EscapeText(e.path) + "  (" + Describe(e) + ")\n";
  });
  Section(out, "changed", diff.changed, limit, [&](const hashdb::ChangedEntry& c) {
    std::string line = "  ~ " + EscapeText(c.after.path) + "  (sha256 " + Short(c.before.digest) +
                       " -> " + Short(c.after.digest);
    if (c.before.kind != c.after.kind) {
      line += ", " + std::string(hashdb::KindName(c.before.kind)) + " -> " +
              std::string(hashdb::KindName(c.after.kind));
    }
    return line + ", owner " + OwnerText(c.after.uid, c.after.gid) + ")\n" +
           TakenFrom(rescan, c.after.path);
  });
  if (!not_learned) return out;
  Section(
      out, "NOT learned", rescan->not_learned, limit,
      [](const NotLearned& n) {
        std::string line = "  ! " + EscapeText(n.entry.path) + "  (" + Describe(n.entry) + ")\n";
        line += "      " + n.why;
        if (n.kept)
          line += "; the database keeps its old content (sha256 " + Short(n.kept->digest) + ")";
        line += "\n";
        std::size_t shown = 0;
        for (const auto& w : n.writers) {
          if (shown == kWritersShown) {
            line +=
                "      ... and " + std::to_string(n.writers.size() - shown) + " more write(s)\n";
            break;
          }
          line += "      " + WriterText(w, n.entry.path) + "\n";
          ++shown;
        }
        return line;
      },
      ", new or changed on disk but not written by the maintenance session; not in the new "
      "database");
  return out;
}

}  // namespace lockctl
