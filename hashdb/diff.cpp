#include "hashdb/diff.h"

#include <string_view>

namespace hashdb {

namespace {

FileEntry ToEntry(const RecordView& r) {
  return FileEntry{std::string(r.path), *r.digest, r.kind, r.size, r.mode, r.uid, r.gid};
}

// Merge walk over two path-ordered sequences. Get(i) returns something with .path and .digest.
template <typename GetA, typename GetB, typename ToA, typename ToB>
DatabaseDiff Merge(std::size_t count_a, GetA get_a, ToA to_a, std::size_t count_b, GetB get_b,
                   ToB to_b) {
  DatabaseDiff diff;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < count_a || j < count_b) {
    if (j == count_b) {
      diff.removed.push_back(to_a(get_a(i++)));
      continue;
    }
    if (i == count_a) {
      diff.added.push_back(to_b(get_b(j++)));
      continue;
    }
    const auto& a = get_a(i);
    const auto& b = get_b(j);
    const std::string_view pa = a.path;
    const std::string_view pb = b.path;
    const int cmp = pa.compare(pb);
    if (cmp < 0) {
      diff.removed.push_back(to_a(a));
      ++i;
    } else if (cmp > 0) {
      diff.added.push_back(to_b(b));
      ++j;
    } else {
      if (a.digest == b.digest) {
        ++diff.unchanged;
      } else {
        diff.changed.push_back(ChangedEntry{to_a(a), to_b(b)});
      }
      ++i;
      ++j;
    }
  }
  return diff;
}

struct RecordRef {
  std::string_view path;
  Digest digest;
  RecordView view;
};

}  // namespace

DatabaseDiff DiffEntries(const std::vector<FileEntry>& before,
                         const std::vector<FileEntry>& after) {
  auto get_before = [&](std::size_t i) -> const FileEntry& { return before[i]; };
  auto get_after = [&](std::size_t i) -> const FileEntry& { return after[i]; };
  auto copy = [](const FileEntry& e) { return e; };
  return Merge(before.size(), get_before, copy, after.size(), get_after, copy);
}

DatabaseDiff DiffDatabases(const Database& before, const Database& after) {
  auto ref = [](const Database& db) {
    return [&db](std::size_t i) {
      RecordView v = db.RecordAt(static_cast<std::uint32_t>(i));
      return RecordRef{v.path, *v.digest, v};
    };
  };
  auto to_entry = [](const RecordRef& r) { return ToEntry(r.view); };
  return Merge(before.record_count(), ref(before), to_entry, after.record_count(), ref(after),
               to_entry);
}

std::vector<FileEntry> EntriesOf(const Database& db) {
  std::vector<FileEntry> out;
  out.reserve(db.record_count());
  for (std::uint32_t i = 0; i < db.record_count(); ++i) out.push_back(ToEntry(db.RecordAt(i)));
  return out;
}

}  // namespace hashdb
