#include "tools/maintenance/rescan.h"

#include <fcntl.h>
#include <fnmatch.h>

#include <algorithm>
#include <map>

#include "hashdb/file_hasher.h"
#include "tools/output.h"

namespace lockctl {

namespace {

bool Excluded(const std::string& path, const std::vector<std::string>& excludes) {
  return std::any_of(excludes.begin(), excludes.end(), [&](const std::string& pattern) {
    return ::fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
  });
}

std::string Basename(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool LearnedFile::Has(std::string_view how) const {
  return std::find(hows.begin(), hows.end(), how) != hows.end();
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
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    const auto tab1 = line.find('\t');
    const auto tab2 = tab1 == std::string_view::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos) {
      return bad("expected \"<sha256 or ->\\t<how>\\t<path hex>\"");
    }
    const std::string how(line.substr(tab1 + 1, tab2 - tab1 - 1));
    const std::string_view hex = line.substr(tab2 + 1);
    if (how.empty() || hex.empty() || hex.size() % 2 != 0 || hex.size() > 2 * 4096) {
      return bad("expected a how and a path in hex");
    }
    std::string path;
    path.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
      auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
      if (hi < 0 || lo < 0) return bad("path is not lower-case hex");
      path.push_back(static_cast<char>(hi * 16 + lo));
    }
    if (path[0] != '/' || path.find('\0') != std::string::npos) {
      return bad("expected an absolute path");
    }
    auto [it, inserted] = index.emplace(path, out.size());
    if (inserted) out.push_back(LearnedFile{std::move(path), {}});
    LearnedFile& f = out[it->second];
    if (!f.Has(how)) f.hows.push_back(how);
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

hashdb::Result<RescanResult> Rescan(const RescanOptions& options,
                                    const std::vector<hashdb::FileEntry>& current) {
  RescanResult result;
  std::map<std::string, hashdb::FileEntry> by_path;
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
    for (const auto& e : scan->entries) by_path.emplace(e.path, e);
    result.scan = std::move(*scan);  // entries kept: the summary counts them per kind
  }
  for (const LearnedFile& f : options.learned) {
    if (options.updater_only && !f.Has("updater")) {
      result.notes.push_back(EscapeText(f.path) + ": not taken: learned by " +
                             (f.hows.empty() ? std::string("?") : f.hows.front()) +
                             ", not written by the trusted updater (needs the full rescan)");
      continue;
    }
    if (!options.updater_only && by_path.count(f.path) != 0) continue;  // the scan has it
    if (Excluded(f.path, options.excludes)) {
      result.notes.push_back(EscapeText(f.path) + ": not taken: matches a baseline exclude");
      continue;
    }
    std::string why;
    auto entry = EntryForFile(f.path, &why);
    if (!entry.ok()) {
      result.notes.push_back(entry.error().message + ": not taken");
      continue;
    }
    if (!entry->has_value()) {
      result.notes.push_back(EscapeText(f.path) + ": not taken: " + why);
      continue;
    }
    auto [it, inserted] = by_path.insert_or_assign(f.path, std::move(**entry));
    (void)it;
    (void)inserted;
    ++result.learned_added;
  }
  result.entries.reserve(by_path.size());
  for (auto& [path, e] : by_path) result.entries.push_back(std::move(e));
  return result;
}

}  // namespace lockctl
