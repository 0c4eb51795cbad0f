#include "tools/maintenance/diff.h"

#include "hashdb/digest.h"
#include "tools/output.h"

namespace lockctl {

namespace {

std::string Short(const hashdb::Digest& d) { return hashdb::ToHex(d).substr(0, 16); }

std::string Describe(const hashdb::FileEntry& e) {
  return std::string(hashdb::KindName(e.kind)) + ", " + HumanBytes(static_cast<double>(e.size)) +
         ", sha256 " + Short(e.digest);
}

template <typename T, typename Line>
void Section(std::string& out, const char* title, const std::vector<T>& items, std::size_t limit,
             Line line) {
  if (items.empty()) return;
  out += std::string(title) + " (" + std::to_string(items.size()) + "):\n";
  const std::size_t shown = limit == 0 ? items.size() : std::min(limit, items.size());
  for (std::size_t i = 0; i < shown; ++i) out += line(items[i]);
  if (shown < items.size()) {
    out += "  ... and " + std::to_string(items.size() - shown) + " more (--full lists them all)\n";
  }
}

}  // namespace

std::string DiffCounts(const hashdb::DatabaseDiff& d) {
  return std::to_string(d.added.size()) + " added, " + std::to_string(d.removed.size()) +
         " removed, " + std::to_string(d.changed.size()) + " changed, " +
         std::to_string(d.unchanged) + " unchanged";
}

std::string RenderDiff(const hashdb::DatabaseDiff& diff, std::size_t limit) {
  std::string out = "changes: " + DiffCounts(diff) + "\n";
  if (diff.empty()) {
    out +=
        "no file added, removed or changed: the new database allows exactly what the "
        "current one does\n";
    return out;
  }
  Section(out, "added", diff.added, limit, [](const hashdb::FileEntry& e) {
    return "  + " + EscapeText(e.path) + "  (" + Describe(e) + ")\n";
  });
  Section(out, "removed", diff.removed, limit, [](const hashdb::FileEntry& e) {
    return "  - " + EscapeText(e.path) + "  (" + Describe(e) + ")\n";
  });
  Section(out, "changed", diff.changed, limit, [](const hashdb::ChangedEntry& c) {
    std::string line = "  ~ " + EscapeText(c.after.path) + "  (sha256 " + Short(c.before.digest) +
                       " -> " + Short(c.after.digest);
    if (c.before.kind != c.after.kind) {
      line += ", " + std::string(hashdb::KindName(c.before.kind)) + " -> " +
              std::string(hashdb::KindName(c.after.kind));
    }
    return line + ")\n";
  });
  return out;
}

}  // namespace lockctl
