#include "tools/maintenance/rescan.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>

#include "hashdb/file_hasher.h"
#include "tools/output.h"

namespace lockctl {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Lower-case hex into raw bytes; false when not hex.
bool Unhex(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0 || hex.size() > 2 * 4096) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

template <typename T>
bool Number(std::string_view text, T& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

std::string Basename(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool LearnedFile::Has(std::string_view how) const {
  return std::any_of(writers.begin(), writers.end(),
                     [&](const LearnedWriter& w) { return w.how == how; });
}

bool LearnedFile::HasBy(std::string_view by) const {
  return std::any_of(writers.begin(), writers.end(),
                     [&](const LearnedWriter& w) { return w.by == by; });
}

const LearnedWriter* LearnedFile::FirstOutsider() const {
  for (const auto& w : writers) {
    if (!w.Learned()) return &w;
  }
  return nullptr;
}

const LearnedWriter* LearnedFile::FirstLearned() const {
  for (const auto& w : writers) {
    if (w.Learned()) return &w;
  }
  return nullptr;
}

hashdb::Result<std::vector<LearnedFile>> ParseLearnedList(std::string_view text,
                                                          const std::string& source_name) {
  std::vector<LearnedFile> out;
  std::map<std::string, std::size_t> index;
  std::size_t line_no = 0;
  auto bad = [&](const std::string& what) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             source_name + ":" + std::to_string(line_no) + ": " + what);
  };
  while (true) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) break;  // the rest (if any) is a torn last line
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    std::array<std::string_view, 7> f;
    bool complete = true;
    for (std::size_t i = 0; i < f.size(); ++i) {
      const auto tab = i + 1 < f.size() ? line.find('\t') : std::string_view::npos;
      if (i + 1 < f.size() && tab == std::string_view::npos) {
        complete = false;
        break;
      }
      f[i] = line.substr(0, tab);
      if (tab != std::string_view::npos) line.remove_prefix(tab + 1);
    }
    if (!complete) {
      return bad(
          "expected \"<sha256|->\\t<how>\\t<by>\\t<pid>\\t<uid|->\\t<exe hex|->\\t<path hex>\"");
    }
    LearnedWriter w;
    if (f[0] != "-") {
      w.digest = hashdb::DigestFromHex(f[0]);
      if (!w.digest) return bad("expected a SHA-256 in hex or \"-\"");
    }
    w.how = std::string(f[1]);
    if (w.how != "exec" && w.how != "open" && w.how != "write" && w.how != "updater") {
      return bad("unknown how \"" + w.how + "\"");
    }
    w.by = std::string(f[2]);
    if (w.by != "session" && w.by != "updater" && w.by != "other" && w.by != "unknown") {
      return bad("unknown writer kind \"" + w.by + "\"");
    }
    if (!Number(f[3], w.pid) || w.pid < 0) return bad("expected a pid");
    if (f[4] != "-" && (!Number(f[4], w.uid) || w.uid < 0)) return bad("expected a uid or \"-\"");
    if (f[5] != "-" && (f[5].empty() || !Unhex(f[5], w.exe))) {
      return bad("executable is not lower-case hex");
    }
    if (f[6].empty() || !Unhex(f[6], w.path)) return bad("path is not lower-case hex");
    if (w.path[0] != '/' || w.path.find('\0') != std::string::npos) {
      return bad("expected an absolute path");
    }
    auto [it, inserted] = index.emplace(w.path, out.size());
    if (inserted) out.push_back(LearnedFile{w.path, {}});
    out[it->second].writers.push_back(std::move(w));
  }
  return out;
}

hashdb::Result<std::optional<hashdb::FileEntry>> EntryForFile(const std::string& path,
                                                              std::string* why) {
  hashdb::HashedFile h = hashdb::HashFileAt(AT_FDCWD, path, Basename(path), {});
  switch (h.outcome) {
    case hashdb::HashOutcome::kHashed:
      h.entry.path = path;
      return std::optional<hashdb::FileEntry>(std::move(h.entry));
    case hashdb::HashOutcome::kVanished:
      *why = "no longer exists";
      break;
    case hashdb::HashOutcome::kSymlink:
      *why = "is a symlink (its target is recorded under its own path)";
      break;
    case hashdb::HashOutcome::kNotRegular:
    case hashdb::HashOutcome::kOtherFilesystem:  // (no device given)
      *why = "is not a regular file";
      break;
    case hashdb::HashOutcome::kNotCode:
      *why = "is not code (not ELF, no #!, no script suffix, no execute bit)";
      break;
    case hashdb::HashOutcome::kChanged:
      *why = "kept changing (or was open for writing) while being hashed";
      break;
    case hashdb::HashOutcome::kOpenFailed:
      return hashdb::ErrnoError(std::string(h.failed_call) + " " + EscapeText(path), h.sys_errno);
    case hashdb::HashOutcome::kReadFailed:
      return h.error.Wrap(EscapeText(path));
  }
  return std::optional<hashdb::FileEntry>();
}

namespace {

// Decides new and changed files from the learned list (see rescan.h).
class Judge {
 public:
  explicit Judge(const RescanOptions& o) : o_(o) {
    for (const LearnedFile& f : o.learned) {
      by_path_.emplace(f.path, &f);
      for (const LearnedWriter& w : f.writers) {
        if (w.digest && Counts(w)) by_digest_.emplace(*w.digest, &w);
      }
    }
  }

  const LearnedFile* Lines(const std::string& path) const {
    auto it = by_path_.find(path);
    return it == by_path_.end() ? nullptr : it->second;
  }

  // The line that justifies taking e, or nullptr with *why set.
  const LearnedWriter* Take(const hashdb::FileEntry& e, std::string* why) const {
    const LearnedFile* lines = Lines(e.path);
    if (lines != nullptr && lines->HasBy("other")) {
      *why = "written or run during the window by a process outside the maintenance session";
      return nullptr;
    }
    // A writer gone before lockd looked could have been anyone: after such a write, only
    // what the session ran vouches for the bytes (the digest of an exec is taken from the
    // very file executed; the digest of a write is hashed after it, when the unknown writer
    // may already have changed it).
    const bool unknown = lines != nullptr && lines->HasBy("unknown");
    const auto [first, last] = by_digest_.equal_range(e.digest);
    const LearnedWriter* ran = nullptr;
    const LearnedWriter* wrote = nullptr;
    for (auto it = first; it != last; ++it) {
      const LearnedWriter* w = it->second;
      const bool exec = w->how == "exec" || w->how == "open";
      const LearnedWriter*& slot = exec ? ran : wrote;
      if (slot == nullptr || (w->path == e.path && slot->path != e.path)) slot = w;
    }
    if (ran != nullptr) return ran;
    if (wrote != nullptr && !unknown) return wrote;
    const LearnedWriter* own = nullptr;
    if (lines != nullptr) {
      for (const auto& w : lines->writers) {
        if (Counts(w)) {
          own = &w;
          break;
        }
      }
    }
    if (own != nullptr && !unknown && o_.learned_complete) return own;
    const std::string who = o_.updater_only ? "the trusted updater" : "the maintenance session";
    if (unknown) {
      *why =
          "written during the window by a process that had exited before lockd could tell "
          "whose it was";
    } else if (own != nullptr) {
      *why = who +
             " wrote this path, but lockd dropped events during the window and these "
             "bytes are not the ones it recorded";
    } else if (o_.updater_only) {
      *why = "not written by the trusted updater";
    } else {
      *why = "not written or run by the maintenance session during the window";
    }
    return nullptr;
  }

 private:
  bool Counts(const LearnedWriter& w) const {
    return o_.updater_only ? w.by == "updater" : w.Learned();
  }
  const RescanOptions& o_;
  std::map<std::string, const LearnedFile*> by_path_;
  std::multimap<hashdb::Digest, const LearnedWriter*> by_digest_;
};

}  // namespace

hashdb::Result<RescanResult> Rescan(const RescanOptions& options,
                                    const std::vector<hashdb::FileEntry>& current) {
  RescanResult result;
  const Judge judge(options);
  std::map<std::string, hashdb::FileEntry> by_path;
  std::map<std::string, const hashdb::FileEntry*> in_force;
  for (const auto& e : current) in_force.emplace(e.path, &e);
  auto not_learned = [&](hashdb::FileEntry entry, std::string why) {
    NotLearned n;
    if (auto it = in_force.find(entry.path); it != in_force.end()) {
      n.kept = *it->second;
      by_path.insert_or_assign(entry.path, *it->second);  // the entry in force stays
    }
    if (const LearnedFile* lines = judge.Lines(entry.path)) n.writers = lines->writers;
    n.entry = std::move(entry);
    n.why = std::move(why);
    result.not_learned.push_back(std::move(n));
  };
  std::set<std::string> scanned;
  if (options.updater_only) {
    for (const auto& e : current) by_path.emplace(e.path, e);
  } else {
    hashdb::ScanOptions scan_options;
    scan_options.roots = options.roots;
    scan_options.excludes = options.excludes;
    scan_options.threads = options.threads;
    scan_options.reporter = options.reporter;
    scan_options.count_first = options.reporter != nullptr;
    auto scan = hashdb::Scan(scan_options);
    if (!scan.ok()) return scan.error();
    for (const auto& e : scan->entries) {
      scanned.insert(e.path);
      auto cur = in_force.find(e.path);
      if (cur != in_force.end() && cur->second->digest == e.digest) {
        by_path.insert_or_assign(e.path, e);  // the same content as in force
        continue;
      }
      std::string why;
      if (const LearnedWriter* w = judge.Take(e, &why)) {
        result.taken_from.emplace(e.path, *w);
        by_path.insert_or_assign(e.path, e);
      } else {
        not_learned(e, why);
      }
    }
    result.scan = std::move(*scan);  // entries kept: the summary counts them per kind
  }
  for (const LearnedFile& f : options.learned) {
    if (scanned.count(f.path) != 0) continue;  // decided with the scan
    const LearnedWriter* first = f.FirstLearned();
    if (options.updater_only && !f.HasBy("updater") && first != nullptr) {
      result.notes.push_back(EscapeText(f.path) + ": not taken: " + first->how + " by the " +
                             first->by +
                             ", not written by the trusted updater (needs the full rescan)");
      continue;
    }
    if (hashdb::PathExcluded(f.path, options.excludes)) {
      if (first != nullptr) {
        result.notes.push_back(EscapeText(f.path) + ": not taken: in a baseline exclude's tree");
      }
      continue;
    }
    std::string why;
    auto entry = EntryForFile(f.path, &why);
    if (!entry.ok()) {
      result.notes.push_back(entry.error().message + ": not taken");
      continue;
    }
    if (!entry->has_value()) {
      if (first != nullptr) result.notes.push_back(EscapeText(f.path) + ": not taken: " + why);
      continue;
    }
    if (const LearnedWriter* w = judge.Take(**entry, &why)) {
      result.taken_from.emplace(f.path, *w);
      by_path.insert_or_assign(f.path, std::move(**entry));
      ++result.learned_added;
    } else {
      not_learned(std::move(**entry), why);
    }
  }
  std::sort(result.not_learned.begin(), result.not_learned.end(),
            [](const NotLearned& a, const NotLearned& b) { return a.entry.path < b.entry.path; });
  result.entries.reserve(by_path.size());
  for (auto& [path, e] : by_path) result.entries.push_back(std::move(e));
  return result;
}

}  // namespace lockctl
