// Checks of a format-version-1 file. Kept as they were before version 2 existed (their every
// message on the seed corpus, its byte flips and its truncations is pinned by
// tests/hashdb/database_v1_test.cpp), plus the interpreter flags derived from the names.
#include <algorithm>
#include <cstring>
#include <thread>

#include "hashdb/database.h"
#include "hashdb/database_internal.h"
#include "hashdb/format.h"
#include "hashdb/record_codec.h"

namespace hashdb {

namespace f = format;
namespace v1 = format::v1;

namespace {
std::string U64(std::uint64_t v) { return std::to_string(v); }
}  // namespace

Status Database::VerifyV1(Database& db, const TrustStore* trust) {
  const std::string& name = db.name_;
  const std::uint8_t* d = db.data_;
  const std::uint64_t size = db.size_;
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kFormat, name + ": " + what);
  };

  // Header.
  HASHDB_TRY(CheckCommonHeader(db, v1::off::kSigAlgorithm));
  if (f::LoadU16(d + v1::off::kReserved) != 0) return bad("reserved header field is not zero");
  const std::uint64_t dc = f::LoadU32(d + f::off::kDigestCount);
  const std::uint64_t rc = f::LoadU32(d + f::off::kRecordCount);

  // Layout: every section is where the canonical layout puts it, inside the file. The checks
  // run in file order, so each offset is known to be <= size before the next one is derived.
  const std::uint64_t digests_offset = f::LoadU64(d + v1::off::kDigestsOffset);
  const std::uint64_t records_offset = f::LoadU64(d + v1::off::kRecordsOffset);
  const std::uint64_t strings_offset = f::LoadU64(d + v1::off::kStringsOffset);
  const std::uint64_t strings_size = f::LoadU64(d + v1::off::kStringsSize);
  const std::uint64_t policy_offset = f::LoadU64(d + v1::off::kPolicyOffset);
  const std::uint64_t policy_size = f::LoadU32(d + v1::off::kPolicySize);
  const std::uint64_t sig_offset = f::LoadU64(d + v1::off::kSignatureOffset);
  if (digests_offset != f::kHeaderSize) return bad("digest table offset is not 128");
  if (records_offset != digests_offset + dc * v1::kDigestEntrySize) {
    return bad("record section offset does not follow the digest table (" + U64(dc) + " digests)");
  }
  if (records_offset > size) return bad("truncated inside the digest table");
  if (strings_offset != records_offset + rc * v1::kRecordSize) {
    return bad("string section offset does not follow the records (" + U64(rc) + " records)");
  }
  if (strings_offset > size) return bad("truncated inside the record section");
  if (strings_size > size - strings_offset) return bad("truncated inside the string section");
  if (policy_offset != f::AlignUp(strings_offset + strings_size)) {
    return bad("policy section offset is not where the strings end");
  }
  if (policy_offset > size) return bad("truncated before the policy section");
  if (policy_size > kMaxPolicySize || policy_size > size - policy_offset) {
    return bad("truncated inside the policy section");
  }
  if (sig_offset != f::AlignUp(policy_offset + policy_size)) {
    return bad("signature offset is not where the policy ends");
  }
  auto tail = CheckSignatureTail(db, sig_offset);
  if (!tail) return tail.error();
  const std::uint32_t sig_len = *tail;
  for (std::uint64_t i = strings_offset + strings_size; i < policy_offset; ++i) {
    if (d[i] != 0) return bad("padding before the policy section is not zero");
  }
  for (std::uint64_t i = policy_offset + policy_size; i < sig_offset; ++i) {
    if (d[i] != 0) return bad("padding before the signature is not zero");
  }

  // The signer must be a trust anchor of the right algorithm: checked before any hashing.
  auto key = FindSigner(db, trust);
  if (!key.ok()) return key.error();
  // Hash every signed byte on a background thread (itself splitting the work over the cores)
  // while this thread runs the structural checks below; for a large database the two take
  // comparable time. The jthread is joined on every return path.
  std::vector<std::uint8_t> message;
  std::jthread hasher([&message, d, sig_offset] {
    message = f::SignedMessage(std::span<const std::uint8_t>(d, sig_offset),
                               std::max(1u, std::thread::hardware_concurrency()));
  });

  // Policy.
  auto policy =
      ParsePolicy(std::span<const std::uint8_t>(d + policy_offset, policy_size), f::kVersion1);
  if (!policy) return bad(policy.error().message);
  db.policy_ = std::move(*policy);

  // Digest table: strictly increasing, valid kinds, zero padding, record index in range.
  db.digest_count_ = static_cast<std::uint32_t>(dc);
  db.record_count_ = static_cast<std::uint32_t>(rc);
  db.digests_ = d + digests_offset;
  db.digest_stride_ = v1::kDigestEntrySize;
  db.classes_ = db.digests_ + 32;
  db.class_stride_ = v1::kDigestEntrySize;
  db.records_ = d + records_offset;
  db.strings_ = d + strings_offset;
  db.strings_size_ = strings_size;
  if ((dc == 0) != (rc == 0)) return bad("digest and record counts disagree");
  if (dc > rc) return bad("more digests than records");
  db.SizeBuckets();
  const std::uint32_t buckets = 1u << db.bucket_bits_;
  std::uint32_t next_bucket = 0;
  for (std::uint64_t i = 0; i < dc; ++i) {
    const std::uint8_t* e = db.digests_ + i * v1::kDigestEntrySize;
    if (i > 0 && internal::CompareDigest(e - v1::kDigestEntrySize, e) >= 0) {
      return bad("digest table is not in strictly increasing order at entry " + U64(i));
    }
    if (!IsValidKind(e[32])) return bad("unknown kind " + U64(e[32]) + " at entry " + U64(i));
    if (e[33] != 0 || e[34] != 0 || e[35] != 0) return bad("digest entry padding is not zero");
    if (f::LoadU32(e + 36) >= rc) return bad("digest entry " + U64(i) + " names a bad record");
    std::uint32_t prefix = db.BucketOf(e);
    while (next_bucket <= prefix) db.bucket_[next_bucket++] = static_cast<std::uint32_t>(i);
  }
  while (next_bucket <= buckets) db.bucket_[next_bucket++] = static_cast<std::uint32_t>(dc);

  // Records: in strictly increasing path order, paths packed in order in the string section,
  // each digest's first record is the one its table entry names, and every digest is used.
  // first_record[d]: the first record naming digest d. Filled while walking the records in
  // order (writes into a 4 bytes-per-digest array, which stays in cache far better than the
  // 40 bytes-per-digest table), then compared with the table in one sequential pass.
  constexpr std::uint32_t kUnseen = UINT32_MAX;
  std::vector<std::uint32_t> first_record(dc, kUnseen);
  std::uint64_t expected_path_offset = 0;
  std::string_view previous;
  for (std::uint64_t i = 0; i < rc; ++i) {
    const std::uint8_t* r = db.records_ + i * v1::kRecordSize;
    const std::uint32_t digest_index = f::LoadU32(r + v1::rec::kDigestIndex);
    const std::uint32_t path_offset = f::LoadU32(r + v1::rec::kPathOffset);
    const std::uint32_t path_length = f::LoadU32(r + v1::rec::kPathLength);
    if (digest_index >= dc) return bad("record " + U64(i) + " names a digest out of range");
    if (path_offset != expected_path_offset) return bad("record " + U64(i) + " path misplaced");
    if (path_length == 0 || path_length > f::kMaxPathLength ||
        path_length > strings_size - path_offset) {
      return bad("record " + U64(i) + " has a bad path length");
    }
    std::string_view path(reinterpret_cast<const char*>(db.strings_ + path_offset), path_length);
    if (path[0] != '/' || std::memchr(path.data(), 0, path.size()) != nullptr) {
      return bad("record " + U64(i) + " path is not absolute or contains NUL");
    }
    if (i > 0 && !(previous < path)) {
      return bad("records are not in strictly increasing path order at record " + U64(i));
    }
    if (first_record[digest_index] == kUnseen) {
      first_record[digest_index] = static_cast<std::uint32_t>(i);
    }
    db.max_file_size_ = std::max(db.max_file_size_, f::LoadU64(r + v1::rec::kSize));
    previous = path;
    expected_path_offset += path_length;
  }
  if (expected_path_offset != strings_size) return bad("string section has unused bytes");
  for (std::uint64_t i = 0; i < dc; ++i) {
    if (first_record[i] == kUnseen) return bad("digest entry " + U64(i) + " has no record");
    if (f::LoadU32(db.digests_ + i * v1::kDigestEntrySize + 36) != first_record[i]) {
      return bad("digest entry " + U64(i) + " does not name its first record");
    }
  }
  db.DeriveInterpreterFlagsV1();

  // Signature over every byte before it, by the trust anchor found above.
  hasher.join();
  return CheckSignature(db, *key, trust, message, sig_offset, sig_len);
}

void Database::DeriveInterpreterFlagsV1() {
  // Version 1 has no interpreter flag: a digest is an interpreter when one of its paths has an
  // interpreter's name, exactly as a version-2 writer flags it. Only names whose first byte
  // starts some interpreter name are looked at closely.
  v1_flags_.assign(digest_count_, 0);
  flags_ = v1_flags_.data();
  bool first_byte[256] = {};
  for (const std::string& n : policy_.interpreters) {
    if (!n.empty()) first_byte[static_cast<unsigned char>(n[0])] = true;
  }
  for (std::uint32_t i = 0; i < record_count_; ++i) {
    const std::uint8_t* r = records_ + static_cast<std::size_t>(i) * v1::kRecordSize;
    const std::string_view path(
        reinterpret_cast<const char*>(strings_) + f::LoadU32(r + v1::rec::kPathOffset),
        f::LoadU32(r + v1::rec::kPathLength));
    const std::string_view base = format::v2::Split(path).name;
    if (base.empty() || !first_byte[static_cast<unsigned char>(base[0])]) continue;
    if (IsInterpreterName(base, policy_.interpreters)) {
      v1_flags_[f::LoadU32(r + v1::rec::kDigestIndex)] = format::v2::kClassInterpreter;
    }
  }
}

}  // namespace hashdb
