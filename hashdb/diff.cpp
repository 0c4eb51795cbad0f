#include "hashdb/diff.h"

#include <set>
#include <string_view>

namespace hashdb {

namespace {

FileEntry ToEntry(const RecordView& r) {
  return FileEntry{r.path, *r.digest, r.kind, r.size, r.mode, r.uid, r.gid, r.interpreter};
}

const Digest& DigestOf(const FileEntry& e) { return e.digest; }
const Digest& DigestOf(const RecordView& r) { return *r.digest; }

// Merge walk over two path-ordered sequences. Get(i) returns a FileEntry or a RecordView.
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
      if (DigestOf(a) == DigestOf(b)) {
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

}  // namespace

DatabaseDiff DiffEntries(const std::vector<FileEntry>& before,
                         const std::vector<FileEntry>& after) {
  auto get_before = [&](std::size_t i) -> const FileEntry& { return before[i]; };
  auto get_after = [&](std::size_t i) -> const FileEntry& { return after[i]; };
  auto copy = [](const FileEntry& e) { return e; };
  return Merge(before.size(), get_before, copy, after.size(), get_after, copy);
}

DatabaseDiff DiffDatabases(const Database& before, const Database& after) {
  // Both databases are read in path order, each by one cursor (a version-2 record costs a
  // decode of its own bytes only when read in sequence). Merge asks for the same index more
  // than once, and only ever for the next one or the current one.
  struct Reader {
    explicit Reader(const Database& db) : cursor(db) {}
    const RecordView& Get(std::size_t i) {
      while (read <= i) {
        cursor.Next();
        ++read;
      }
      return cursor.record();
    }
    RecordCursor cursor;
    std::size_t read = 0;
  };
  Reader a(before);
  Reader b(after);
  return Merge(
      before.record_count(), [&a](std::size_t i) -> const RecordView& { return a.Get(i); }, ToEntry,
      after.record_count(), [&b](std::size_t i) -> const RecordView& { return b.Get(i); }, ToEntry);
}

std::vector<FileEntry> EntriesOf(const Database& db) {
  std::vector<FileEntry> out;
  out.reserve(db.record_count());
  RecordCursor cursor(db);
  while (cursor.Next()) out.push_back(ToEntry(cursor.record()));
  return out;
}

void CarryInterpreterFlags(const Database& current, std::vector<FileEntry>& entries) {
  std::set<Digest> digests;
  for (std::uint32_t i = 0; i < current.digest_count(); ++i) {
    if (current.InterpreterAt(i)) digests.insert(current.DigestAt(i));
  }
  if (digests.empty()) return;
  std::set<std::string> paths;
  RecordCursor cursor(current);
  while (cursor.Next()) {
    if (cursor.record().interpreter) paths.insert(cursor.record().path);
  }
  for (FileEntry& e : entries) {
    if (digests.count(e.digest) > 0 || paths.count(e.path) > 0) e.interpreter = true;
  }
}

}  // namespace hashdb
