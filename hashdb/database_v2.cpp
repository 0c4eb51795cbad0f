// Checks of a format-version-2 file (docs/database-format.md, "What the reader checks").
//
// Every check runs at open, for lockd as for lockctl: a file that fails any of them is rejected
// whole. What makes a large file fast to open: after the header and the small tables, the work
// is one task per 1 MiB chunk of the signed bytes, which all cores take from one queue: hash the
// chunk for the signed message, then check the digests (order, class bytes, lookup buckets) and
// the record blocks (every field of every record, path order) that start in the chunk, while it
// is in the cache. A record block decodes on its own (its first record names its directory), so
// tasks need nothing from each other but the one comparison across their boundary, which the
// earlier task makes. Which error is reported does not depend on the number of threads: it is
// always the one of the earliest failing task, i.e. the first problem in file order.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <functional>
#include <thread>
#include <tuple>

#include "hashdb/database.h"
#include "hashdb/database_internal.h"
#include "hashdb/format.h"
#include "hashdb/record_codec.h"

namespace hashdb {

namespace f = format;
namespace v2 = format::v2;

namespace {

std::string U64(std::uint64_t v) { return std::to_string(v); }

// Below this many signed bytes the checks run on the calling thread alone: starting threads
// would cost more than it saves.
constexpr std::uint64_t kParallelThreshold = 2 << 20;

// Runs fn(task, worker) for task 0 .. count - 1, each once, on the calling thread (worker 0)
// and up to `helpers` more threads (workers 1 ..).
void RunTasks(std::size_t count, unsigned helpers,
              const std::function<void(std::size_t, unsigned)>& fn) {
  std::atomic<std::size_t> next{0};
  auto loop = [&](unsigned worker) {
    for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(i, worker);
  };
  std::vector<std::jthread> threads;
  const unsigned n = static_cast<unsigned>(std::min<std::size_t>(helpers, count));
  threads.reserve(n);
  for (unsigned t = 0; t < n; ++t) threads.emplace_back(loop, t + 1);
  loop(0);
}

// Which digests, directories and attribute entries the records of one worker's tasks named:
// one bit each, private to the worker (no atomics, and a million digests fit in 128 KiB, in
// the core's cache); OR-ed together after the tasks.
struct UsedMarks {
  std::vector<std::uint64_t> digests;
  std::vector<std::uint64_t> directories;
  std::vector<std::uint64_t> attributes;
  std::uint64_t max_file_size = 0;  // the largest size field among the worker's records
  UsedMarks(std::uint64_t dc, std::uint64_t dirs, std::uint64_t attrs)
      : digests((dc + 63) / 64), directories((dirs + 63) / 64), attributes((attrs + 63) / 64) {}
};
inline void Mark(std::uint64_t* bits, std::uint32_t i) { bits[i >> 6] |= 1ull << (i & 63); }
// The first index below count whose bit is clear, or count.
std::uint64_t FirstUnmarked(const std::vector<std::uint64_t>& bits, std::uint64_t count) {
  for (std::uint64_t w = 0; w < bits.size(); ++w) {
    const std::uint64_t want =
        w + 1 < bits.size() || count % 64 == 0 ? ~0ull : (1ull << (count % 64)) - 1;
    if ((bits[w] & want) != want) {
      return w * 64 + static_cast<std::uint64_t>(std::countr_one(bits[w]));
    }
  }
  return count;
}

// What the record tasks share; everything here is read-only while they run but the used marks.
struct RecordScope {
  const Database* db = nullptr;
  const std::uint8_t* stream = nullptr;
  std::uint64_t stream_size = 0;
  const std::uint8_t* block_index = nullptr;
  const std::uint8_t* directory_offsets = nullptr;
  const std::uint8_t* directory_names = nullptr;
  std::uint64_t blocks = 0;
  std::uint32_t records = 0;
  std::uint32_t digests = 0;
  std::uint32_t directories = 0;
  std::uint32_t attributes = 0;

  std::string_view Directory(std::uint32_t i) const {
    const std::uint32_t begin = f::LoadU32(directory_offsets + 4 * static_cast<std::size_t>(i));
    const std::uint32_t end = f::LoadU32(directory_offsets + 4 * (static_cast<std::size_t>(i) + 1));
    return std::string_view(reinterpret_cast<const char*>(directory_names) + begin, end - begin);
  }
  const std::uint8_t* BlockStart(std::uint64_t b) const {
    return stream + f::LoadU32(block_index + 4 * b);
  }
  const std::uint8_t* BlockEnd(std::uint64_t b) const {
    return b + 1 < blocks ? BlockStart(b + 1) : stream + stream_size;
  }
};

// Checks blocks [first, last): every record's fields, names, lengths and order, each block
// ending exactly where the next begins, and the order across `last`'s first record. Returns
// the first problem, or "" when there is none.
std::string CheckRecordBlocks(const RecordScope& s, std::uint64_t first, std::uint64_t last,
                              UsedMarks& marks) {
  std::uint64_t* digest_used = marks.digests.data();
  std::uint64_t* directory_used = marks.directories.data();
  std::uint64_t* attribute_used = marks.attributes.data();
  std::string_view dir;  // of the previous record
  std::uint32_t dir_index = 0;
  char name[v2::kMaxNameLength];  // of the previous record
  std::size_t name_size = 0;
  bool previous = false;  // whether this task has read a record before the current one
  for (std::uint64_t b = first; b < last; ++b) {
    const std::uint8_t* p = s.BlockStart(b);
    const std::uint8_t* end = s.BlockEnd(b);
    const std::uint64_t base = b * v2::kRecordsPerBlock;
    const std::uint64_t n = std::min<std::uint64_t>(v2::kRecordsPerBlock, s.records - base);
    for (std::uint64_t j = 0; j < n; ++j) {
      const std::uint64_t i = base + j;
      v2::RecordFields r;
      v2::RecordError error = v2::RecordError::kNone;
      p = v2::DecodeRecord(p, end, r, error);
      if (p == nullptr) return "record " + U64(i) + ": " + v2::RecordErrorText(error);
      const std::string_view suffix = r.suffix;
      if (v2::HasSlashOrNul(suffix.data(), suffix.size())) {
        return "record " + U64(i) + ": name contains '/' or NUL";
      }
      if (r.has_directory) {
        if (r.directory >= s.directories) {
          return "record " + U64(i) + ": directory index " + U64(r.directory) + " out of range";
        }
        if (j > 0 && r.directory == dir_index) {
          return "record " + U64(i) +
                 ": repeats the directory of the record before it (it must be left out)";
        }
        const std::string_view record_dir = s.Directory(r.directory);
        if (record_dir.size() + 1 + suffix.size() > f::kMaxPathLength) {
          return "record " + U64(i) + ": path longer than 4096 bytes";
        }
        if (previous && v2::CompareSplitPaths(dir, std::string_view(name, name_size), record_dir,
                                              suffix) >= 0) {
          return "records are not in strictly increasing path order at record " + U64(i);
        }
        Mark(directory_used, r.directory);
        dir_index = r.directory;
        dir = record_dir;
        std::memcpy(name, suffix.data(), suffix.size());
        name_size = suffix.size();
      } else {
        if (j == 0) {
          return "record " + U64(i) + ": the first record of a block does not name its directory";
        }
        if (r.shared > name_size) {
          return "record " + U64(i) + ": shares " + U64(r.shared) +
                 " bytes with the previous name, which has " + U64(name_size);
        }
        if (r.shared + suffix.size() > v2::kMaxNameLength) {
          return "record " + U64(i) + ": name longer than 255 bytes";
        }
        if (dir.size() + 1 + r.shared + suffix.size() > f::kMaxPathLength) {
          return "record " + U64(i) + ": path longer than 4096 bytes";
        }
        // Same directory: the name must sort after the previous one. With `shared` the whole
        // common prefix, that is its first own byte being greater, or it extending the
        // previous name; a `shared` shorter than the common prefix fails here too.
        if (r.shared < name_size &&
            static_cast<std::uint8_t>(suffix[0]) <= static_cast<std::uint8_t>(name[r.shared])) {
          return "records are not in strictly increasing path order at record " + U64(i) +
                 " (or its shared prefix is not the whole common prefix)";
        }
        std::memcpy(name + r.shared, suffix.data(), suffix.size());
        name_size = r.shared + suffix.size();
      }
      if (name_size <= 2 &&
          (std::string_view(name, name_size) == "." || std::string_view(name, name_size) == "..")) {
        return "record " + U64(i) + ": name is '.' or '..'";
      }
      if (r.digest >= s.digests) {
        return "record " + U64(i) + ": digest index " + U64(r.digest) + " out of range";
      }
      if (r.attributes >= s.attributes) {
        return "record " + U64(i) + ": attribute index " + U64(r.attributes) + " out of range";
      }
      Mark(digest_used, r.digest);
      Mark(attribute_used, r.attributes);
      marks.max_file_size = std::max(marks.max_file_size, r.size);
      previous = true;
    }
    if (p != end) {
      return "record block " + U64(b) + " does not end where the next one starts (" +
             U64(static_cast<std::uint64_t>(end - p)) + " bytes left over)";
    }
    // The first record of the next block must come after the last of this one. If it does not
    // decode or names no valid directory, the task that owns that block reports why.
    if (b + 1 == last && last < s.blocks) {
      v2::RecordFields r;
      v2::RecordError error = v2::RecordError::kNone;
      if (v2::DecodeRecord(s.BlockStart(last), s.BlockEnd(last), r, error) != nullptr &&
          r.has_directory && r.directory < s.directories &&
          v2::CompareSplitPaths(dir, std::string_view(name, name_size), s.Directory(r.directory),
                                r.suffix) >= 0) {
        return "records are not in strictly increasing path order at record " +
               U64(last * v2::kRecordsPerBlock);
      }
    }
  }
  return {};
}

// Whether bytes [from, to) of d are zero.
bool Zero(const std::uint8_t* d, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t i = from; i < to; ++i) {
    if (d[i] != 0) return false;
  }
  return true;
}

}  // namespace

Status Database::VerifyV2(Database& db, const TrustStore* trust) {
  const std::string& name = db.name_;
  const std::uint8_t* d = db.data_;
  const std::uint64_t size = db.size_;
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kFormat, name + ": " + what);
  };

  // Header.
  HASHDB_TRY(CheckCommonHeader(db, v2::off::kSigAlgorithm));
  if (f::LoadU16(d + v2::off::kReserved) != 0 || !Zero(d, v2::off::kReservedTail, f::kHeaderSize)) {
    return bad("reserved header field is not zero");
  }
  const std::uint64_t dc = f::LoadU32(d + f::off::kDigestCount);
  const std::uint64_t rc = f::LoadU32(d + f::off::kRecordCount);
  const std::uint64_t dirs = f::LoadU32(d + v2::off::kDirectoryCount);
  const std::uint64_t attrs = f::LoadU32(d + v2::off::kAttributeCount);
  const std::uint64_t dir_names_size = f::LoadU64(d + v2::off::kDirectoryNamesSize);
  const std::uint64_t record_bytes = f::LoadU64(d + v2::off::kRecordBytes);
  const std::uint64_t policy_size = f::LoadU32(d + v2::off::kPolicySize);
  const std::uint64_t sig_offset = f::LoadU64(d + v2::off::kSignatureOffset);

  // Counts that contradict each other, before any of them is used to find a section.
  if ((dc == 0) != (rc == 0)) return bad("digest and record counts disagree");
  if (dc > rc) return bad("more digests than records");
  if (dirs > rc || attrs > rc || (dirs == 0) != (rc == 0) || (attrs == 0) != (rc == 0)) {
    return bad("directory or attribute count does not fit the record count (" + U64(rc) +
               " records, " + U64(dirs) + " directories, " + U64(attrs) + " attributes)");
  }
  if (rc == 0 && record_bytes != 0)
    return bad("record section is not empty but there are no records");
  if (policy_size > kMaxPolicySize) return bad("policy section is larger than 64 KiB");

  // Layout: every section where the canonical layout puts it, inside the file; checked in file
  // order, so the first section that does not fit is named.
  const auto layout =
      v2::ComputeLayout(dc, rc, dirs, attrs, dir_names_size, record_bytes, policy_size);
  if (!layout) return bad("section sizes in the header are impossibly large");
  if (sig_offset != layout->signature) {
    return bad("signature offset " + U64(sig_offset) + " is not where the layout puts it (" +
               U64(layout->signature) + ")");
  }
  const struct {
    std::uint64_t end;
    const char* section;
  } ends[] = {
      {layout->classes, "the digest table"},
      {layout->classes + dc, "the digest classes"},
      {layout->directory_names, "the directory offsets"},
      {layout->directory_names + dir_names_size, "the directory names"},
      {layout->attributes + attrs * v2::kAttributeSize, "the attribute table"},
      {layout->block_index + 4 * v2::BlockCount(rc), "the record block index"},
      {layout->records + record_bytes, "the record section"},
      {layout->policy + policy_size, "the policy section"},
  };
  for (const auto& e : ends) {
    if (e.end > size) return bad(std::string("truncated inside ") + e.section);
  }
  auto tail = CheckSignatureTail(db, sig_offset);
  if (!tail) return tail.error();
  const std::uint32_t sig_len = *tail;
  const struct {
    std::uint64_t from, to;
    const char* section;
  } gaps[] = {
      {layout->classes + dc, layout->directory_offsets, "the directory table"},
      {layout->directory_names + dir_names_size, layout->attributes, "the attribute table"},
      {layout->attributes + attrs * v2::kAttributeSize, layout->block_index,
       "the record block index"},
      {layout->block_index + 4 * v2::BlockCount(rc), layout->records, "the record section"},
      {layout->records + record_bytes, layout->policy, "the policy section"},
      {layout->policy + policy_size, layout->signature, "the signature"},
  };
  for (const auto& g : gaps) {
    if (!Zero(d, g.from, g.to))
      return bad(std::string("padding before ") + g.section + " is not zero");
  }

  // The signer must be a trust anchor of the right algorithm: checked before any hashing.
  auto key = FindSigner(db, trust);
  if (!key.ok()) return key.error();

  // Policy.
  auto policy =
      ParsePolicy(std::span<const std::uint8_t>(d + layout->policy, policy_size), f::kVersion2);
  if (!policy) return bad(policy.error().message);
  db.policy_ = std::move(*policy);

  db.digest_count_ = static_cast<std::uint32_t>(dc);
  db.record_count_ = static_cast<std::uint32_t>(rc);
  db.digests_ = d + layout->digests;
  db.digest_stride_ = v2::kDigestEntrySize;
  db.classes_ = d + layout->classes;
  db.class_stride_ = 1;
  db.flags_ = db.classes_;
  db.directory_offsets_ = d + layout->directory_offsets;
  db.directory_names_ = d + layout->directory_names;
  db.directory_count_ = static_cast<std::uint32_t>(dirs);
  db.attributes_ = d + layout->attributes;
  db.attribute_count_ = static_cast<std::uint32_t>(attrs);
  db.block_index_ = d + layout->block_index;
  db.stream_ = d + layout->records;
  db.stream_size_ = record_bytes;

  // Directory table: offsets from 0 to the names' size, never decreasing; each name "" (for
  // "/") or a canonical absolute path other than "/", in strictly increasing order.
  if (f::LoadU32(db.directory_offsets_) != 0) return bad("directory 0 does not start at offset 0");
  std::string_view previous_dir;
  for (std::uint64_t i = 0; i < dirs; ++i) {
    const std::uint64_t begin = f::LoadU32(db.directory_offsets_ + 4 * i);
    const std::uint64_t end = f::LoadU32(db.directory_offsets_ + 4 * (i + 1));
    if (end < begin || end > dir_names_size) {
      return bad("directory " + U64(i) + " has a bad end offset " + U64(end));
    }
    const std::string_view dir(reinterpret_cast<const char*>(db.directory_names_) + begin,
                               end - begin);
    if (!dir.empty() && (dir == "/" || !IsCanonicalAbsolutePath(dir))) {
      return bad("directory " + U64(i) +
                 " is not a canonical absolute path (or \"\" for the root directory)");
    }
    if (i > 0 && !(previous_dir < dir)) {
      return bad("directories are not in strictly increasing order at directory " + U64(i));
    }
    previous_dir = dir;
  }
  if (f::LoadU32(db.directory_offsets_ + 4 * dirs) != dir_names_size) {
    return bad("directory names do not end where the directory table says");
  }

  // Attribute table: (mode, uid, gid) in strictly increasing numeric order.
  for (std::uint64_t i = 1; i < attrs; ++i) {
    const std::uint8_t* a = db.attributes_ + (i - 1) * v2::kAttributeSize;
    const std::uint8_t* b = a + v2::kAttributeSize;
    const auto ta = std::make_tuple(f::LoadU32(a), f::LoadU32(a + 4), f::LoadU32(a + 8));
    const auto tb = std::make_tuple(f::LoadU32(b), f::LoadU32(b + 4), f::LoadU32(b + 8));
    if (!(ta < tb)) {
      return bad("attribute table is not in strictly increasing order at entry " + U64(i));
    }
  }

  // Block index: block 0 at 0, then strictly increasing inside the record section (each block
  // holds at least one record). That each block ends where the next begins is checked with
  // the records.
  const std::uint64_t blocks = v2::BlockCount(rc);
  std::uint64_t previous_start = 0;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const std::uint64_t start = f::LoadU32(db.block_index_ + 4 * b);
    if ((b == 0 && start != 0) || (b > 0 && start <= previous_start) || start >= record_bytes) {
      return bad("record block " + U64(b) + " starts at a bad offset " + U64(start));
    }
    previous_start = start;
  }

  db.SizeBuckets();
  RecordScope scope;
  scope.db = &db;
  scope.stream = db.stream_;
  scope.stream_size = record_bytes;
  scope.block_index = db.block_index_;
  scope.directory_offsets = db.directory_offsets_;
  scope.directory_names = db.directory_names_;
  scope.blocks = blocks;
  scope.records = db.record_count_;
  scope.digests = db.digest_count_;
  scope.directories = db.directory_count_;
  scope.attributes = db.attribute_count_;

  // One task per 1 MiB chunk of the signed bytes: hash the chunk, then check the digests and the
  // record blocks that start in it, while its bytes are still in the cache (the file is read
  // from memory once instead of twice). Tasks are in file order, so the earliest failing task
  // names the first problem in the file.
  const std::size_t chunks = f::ChunkCount(sig_offset);
  auto chunk_begin = [&](std::size_t t) {
    return std::min<std::uint64_t>(sig_offset, static_cast<std::uint64_t>(t) * f::kChunkSize);
  };
  auto digests_before = [&](std::uint64_t at) {  // digest entries starting before `at`
    if (at <= layout->digests) return std::uint64_t{0};
    return std::min<std::uint64_t>(
        dc, (at - layout->digests + v2::kDigestEntrySize - 1) / v2::kDigestEntrySize);
  };
  std::vector<std::uint64_t> first_block(chunks + 1);  // blocks starting in chunk t: [t, t+1)
  {
    std::uint64_t b = 0;
    for (std::size_t t = 0; t <= chunks; ++t) {
      const std::uint64_t at = chunk_begin(t);
      while (b < blocks && layout->records + f::LoadU32(db.block_index_ + 4 * b) < at) ++b;
      first_block[t] = t == chunks ? blocks : b;
    }
  }
  std::vector<std::string> errors(chunks);
  std::atomic<std::size_t> first_failed{SIZE_MAX};
  std::vector<std::uint8_t> message = f::SignedMessageShell(sig_offset);
  const std::span<const std::uint8_t> signed_bytes(d, sig_offset);

  auto check_digests = [&](std::uint64_t first, std::uint64_t last) -> std::string {
    // Fills bucket_ entries (bucket of digest first-1, bucket of digest i] with i: disjoint from
    // every other task's entries as long as the digests up to i are in order, which is checked
    // before each fill. (atomic_ref: on a file out of order, two tasks may overlap before one of
    // them fails; the file is rejected then, but the writes must still not race.)
    const std::uint8_t* digests = db.digests_;
    const std::uint8_t* classes = db.classes_;
    std::uint32_t* bucket = db.bucket_.data();
    std::uint32_t next_bucket = first == 0 ? 0 : db.BucketOf(digests + (first - 1) * 32) + 1;
    for (std::uint64_t i = first; i < last; ++i) {
      const std::uint8_t* e = digests + i * v2::kDigestEntrySize;
      if (i > 0 && internal::CompareDigest(e - v2::kDigestEntrySize, e) >= 0) {
        return "digest table is not in strictly increasing order at entry " + U64(i);
      }
      const std::uint8_t c = classes[i];
      if ((c & ~v2::kClassKnownBits) != 0 || !IsValidKind(c & v2::kClassKindMask)) {
        return "digest entry " + U64(i) + " has an unknown class byte " + U64(c) +
               " (kind 1 to 4, flag 128)";
      }
      const std::uint32_t b = db.BucketOf(e);
      while (next_bucket <= b) {
        std::atomic_ref<std::uint32_t>(bucket[next_bucket++])
            .store(static_cast<std::uint32_t>(i), std::memory_order_relaxed);
      }
    }
    return {};
  };
  const unsigned helpers =
      sig_offset < kParallelThreshold
          ? 0
          : std::min(7u, std::max(1u, std::thread::hardware_concurrency()) - 1);
  std::vector<UsedMarks> marks(helpers + 1, UsedMarks(dc, dirs, attrs));
  auto run = [&](std::size_t t, unsigned worker) {
    // A task after one that already failed cannot change the outcome.
    if (t > first_failed.load(std::memory_order_relaxed)) return;
    if (first_failed.load(std::memory_order_relaxed) == SIZE_MAX) {
      f::HashChunk(signed_bytes, t, message);
    }
    std::string error =
        check_digests(digests_before(chunk_begin(t)), digests_before(chunk_begin(t + 1)));
    if (error.empty() && first_block[t] < first_block[t + 1]) {
      error = CheckRecordBlocks(scope, first_block[t], first_block[t + 1], marks[worker]);
    }
    if (error.empty()) return;
    errors[t] = std::move(error);
    std::size_t current = first_failed.load();
    while (t < current && !first_failed.compare_exchange_weak(current, t)) {
    }
  };
  RunTasks(chunks, helpers, run);
  if (first_failed.load() != SIZE_MAX) return bad(errors[first_failed.load()]);

  // Every digest, directory and attribute entry is used by some record.
  for (std::size_t w = 1; w < marks.size(); ++w) {
    marks[0].max_file_size = std::max(marks[0].max_file_size, marks[w].max_file_size);
    for (std::size_t i = 0; i < marks[0].digests.size(); ++i) {
      marks[0].digests[i] |= marks[w].digests[i];
    }
    for (std::size_t i = 0; i < marks[0].directories.size(); ++i) {
      marks[0].directories[i] |= marks[w].directories[i];
    }
    for (std::size_t i = 0; i < marks[0].attributes.size(); ++i) {
      marks[0].attributes[i] |= marks[w].attributes[i];
    }
  }
  db.max_file_size_ = marks[0].max_file_size;
  if (const auto i = FirstUnmarked(marks[0].digests, dc); i < dc) {
    return bad("digest entry " + U64(i) + " has no record");
  }
  if (const auto i = FirstUnmarked(marks[0].directories, dirs); i < dirs) {
    return bad("directory " + U64(i) + " has no record");
  }
  if (const auto i = FirstUnmarked(marks[0].attributes, attrs); i < attrs) {
    return bad("attribute entry " + U64(i) + " has no record");
  }
  const std::uint32_t buckets = 1u << db.bucket_bits_;
  std::uint32_t next_bucket = dc == 0 ? 0 : db.BucketOf(db.digests_ + (dc - 1) * 32) + 1;
  while (next_bucket <= buckets) db.bucket_[next_bucket++] = static_cast<std::uint32_t>(dc);

  // Signature over every byte before it, by the trust anchor found above.
  return CheckSignature(db, *key, trust, message, sig_offset, sig_len);
}

}  // namespace hashdb
