#include "hashdb/database.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <thread>

#include "hashdb/format.h"
#include "hashdb/sha256.h"
#include "hashdb/unique_fd.h"

namespace hashdb {

namespace f = format;

namespace {
// A database larger than this is refused before mapping: 1 million entries take ~110 MiB, and a
// terminal has far fewer; the cap bounds what a hostile file can make us map and hash.
constexpr std::uint64_t kMaxFileSize = 2ull << 30;
constexpr std::uint32_t kMaxPolicySize = 64 * 1024;

std::string U64(std::uint64_t v) { return std::to_string(v); }
// Bytewise (memcmp) order of two 32-byte digests, as four big-endian 64-bit words: inlined, no
// call into libc, and one comparison settles almost every pair.
inline int CompareDigest(const std::uint8_t* a, const std::uint8_t* b) {
  for (int w = 0; w < 4; ++w) {
    std::uint64_t x;
    std::uint64_t y;
    std::memcpy(&x, a + 8 * w, 8);
    std::memcpy(&y, b + 8 * w, 8);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
  return 0;
}
}  // namespace

Database::~Database() {
  if (mapped_ && data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

Result<std::shared_ptr<const Database>> Database::Open(const std::string& path,
                                                       const TrustStore& trust) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(path);
  return OpenFd(fd.get(), path, trust);
}

namespace {
struct Mapping {
  const std::uint8_t* data;
  std::uint64_t size;
};

// Maps a regular file read-only. The mapping is only valid while nobody writes the file in
// place: databases are always replaced by rename (AtomicWriteFile), never rewritten.
Result<Mapping> MapFd(int fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError(name);
  if (!S_ISREG(st.st_mode)) return MakeError(ErrorCode::kFormat, name + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileSize) {
    return MakeError(ErrorCode::kFormat, name + ": file of " + U64(st.st_size) +
                                             " bytes is larger than the 2 GiB limit");
  }
  if (st.st_size < static_cast<off_t>(f::kHeaderSize)) {
    return MakeError(ErrorCode::kFormat, name + ": truncated: " + U64(st.st_size) +
                                             " bytes is shorter than the 128-byte header");
  }
  void* m = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ,
                   MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) return ErrnoError(name + ": mmap");
  return Mapping{static_cast<const std::uint8_t*>(m), static_cast<std::uint64_t>(st.st_size)};
}
}  // namespace

Result<std::shared_ptr<const Database>> Database::MapAndVerify(int fd, const std::string& name,
                                                               const TrustStore* trust) {
  auto mapping = MapFd(fd, name);
  if (!mapping) return mapping.error();
  std::unique_ptr<Database> db(new Database());
  db->name_ = name;
  db->data_ = mapping->data;
  db->size_ = mapping->size;
  db->mapped_ = true;
  return Verify(std::move(db), trust);
}

Result<std::shared_ptr<const Database>> Database::CopyAndVerify(std::span<const std::uint8_t> bytes,
                                                                const std::string& name,
                                                                const TrustStore* trust) {
  std::unique_ptr<Database> db(new Database());
  db->name_ = name;
  db->owned_.assign(bytes.begin(), bytes.end());
  db->data_ = db->owned_.data();
  db->size_ = db->owned_.size();
  return Verify(std::move(db), trust);
}

Result<std::shared_ptr<const Database>> Database::OpenFd(int fd, const std::string& name,
                                                         const TrustStore& trust) {
  return MapAndVerify(fd, name, &trust);
}

Result<std::shared_ptr<const Database>> Database::OpenUnverified(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(path);
  return MapAndVerify(fd.get(), path, nullptr);
}

Result<std::shared_ptr<const Database>> Database::FromBytes(std::span<const std::uint8_t> bytes,
                                                            const std::string& name,
                                                            const TrustStore& trust) {
  return CopyAndVerify(bytes, name, &trust);
}

Result<std::shared_ptr<const Database>> Database::FromBytesUnverified(
    std::span<const std::uint8_t> bytes, const std::string& name) {
  return CopyAndVerify(bytes, name, nullptr);
}

Result<std::shared_ptr<const Database>> Database::Verify(std::unique_ptr<Database> db,
                                                         const TrustStore* trust) {
  const std::string& name = db->name_;
  const std::uint8_t* d = db->data_;
  const std::uint64_t size = db->size_;
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kFormat, name + ": " + what);
  };

  // Header.
  if (size < f::kHeaderSize) {
    return bad("truncated: " + U64(size) + " bytes is shorter than the 128-byte header");
  }
  if (std::memcmp(d + f::off::kMagic, f::kMagic, sizeof(f::kMagic)) != 0) {
    return bad("not a lockd database (bad magic)");
  }
  std::uint16_t version = f::LoadU16(d + f::off::kVersion);
  if (version != f::kVersion) {
    return bad("format version " + U64(version) + " is not supported (this lockd reads version " +
               U64(f::kVersion) + ")");
  }
  if (f::LoadU16(d + f::off::kHeaderSize) != f::kHeaderSize) return bad("bad header size");
  if (f::LoadU32(d + f::off::kFlags) != 0) return bad("unknown header flags");
  if (f::LoadU16(d + f::off::kReserved) != 0) return bad("reserved header field is not zero");
  std::uint16_t alg = f::LoadU16(d + f::off::kSigAlgorithm);
  if (alg != static_cast<std::uint16_t>(SignatureAlgorithm::kEcdsaP256Sha256) &&
      alg != static_cast<std::uint16_t>(SignatureAlgorithm::kEd25519)) {
    return bad("unknown signature algorithm " + U64(alg));
  }
  db->algorithm_ = static_cast<SignatureAlgorithm>(alg);
  db->generation_ = f::LoadU64(d + f::off::kGeneration);
  db->created_unix_ = static_cast<std::int64_t>(f::LoadU64(d + f::off::kCreated));
  std::memcpy(db->signer_.data(), d + f::off::kSignerKeyId, db->signer_.size());
  const std::uint64_t dc = f::LoadU32(d + f::off::kDigestCount);
  const std::uint64_t rc = f::LoadU32(d + f::off::kRecordCount);

  // Layout: every section is where the canonical layout puts it, inside the file. The checks
  // run in file order, so each offset is known to be <= size before the next one is derived.
  const std::uint64_t digests_offset = f::LoadU64(d + f::off::kDigestsOffset);
  const std::uint64_t records_offset = f::LoadU64(d + f::off::kRecordsOffset);
  const std::uint64_t strings_offset = f::LoadU64(d + f::off::kStringsOffset);
  const std::uint64_t strings_size = f::LoadU64(d + f::off::kStringsSize);
  const std::uint64_t policy_offset = f::LoadU64(d + f::off::kPolicyOffset);
  const std::uint64_t policy_size = f::LoadU32(d + f::off::kPolicySize);
  const std::uint64_t sig_offset = f::LoadU64(d + f::off::kSignatureOffset);
  if (digests_offset != f::kHeaderSize) return bad("digest table offset is not 128");
  if (records_offset != digests_offset + dc * f::kDigestEntrySize) {
    return bad("record section offset does not follow the digest table (" + U64(dc) + " digests)");
  }
  if (records_offset > size) return bad("truncated inside the digest table");
  if (strings_offset != records_offset + rc * f::kRecordSize) {
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
  if (sig_offset > size || size - sig_offset < 4) return bad("truncated before the signature");
  const std::uint32_t sig_len = f::LoadU32(d + sig_offset);
  if (sig_len == 0 || sig_len > f::kMaxSignatureSize) return bad("bad signature length");
  if (size - sig_offset - 4 < sig_len) return bad("truncated inside the signature");
  if (size - sig_offset - 4 != sig_len) {
    return bad("trailing bytes after the signature (" + U64(size - sig_offset - 4 - sig_len) +
               " bytes)");
  }
  for (std::uint64_t i = strings_offset + strings_size; i < policy_offset; ++i) {
    if (d[i] != 0) return bad("padding before the policy section is not zero");
  }
  for (std::uint64_t i = policy_offset + policy_size; i < sig_offset; ++i) {
    if (d[i] != 0) return bad("padding before the signature is not zero");
  }

  // The signer must be a trust anchor of the right algorithm: checked before any hashing.
  const PublicKey* key = nullptr;
  if (trust != nullptr) {
    key = trust->Find(db->signer_);
    if (key == nullptr) {
      return MakeError(ErrorCode::kSignature, name + ": signed by key " + ToHex(db->signer_) +
                                                  " which is not a trust anchor in " +
                                                  trust->source());
    }
    if (key->algorithm() != db->algorithm_) {
      return MakeError(ErrorCode::kSignature,
                       name + ": signature algorithm does not match the signer's key");
    }
  }
  // Hash every signed byte on a background thread (itself splitting the work over the cores)
  // while this thread runs the structural checks below; for a large database the two take
  // comparable time. The jthread is joined on every return path.
  std::vector<std::uint8_t> message;
  std::jthread hasher([&message, d, sig_offset] {
    message = f::SignedMessage(std::span<const std::uint8_t>(d, sig_offset),
                               std::max(1u, std::thread::hardware_concurrency()));
  });

  // Policy.
  auto policy = ParsePolicy(std::span<const std::uint8_t>(d + policy_offset, policy_size));
  if (!policy) return bad(policy.error().message);
  db->policy_ = std::move(*policy);

  // Digest table: strictly increasing, valid kinds, zero padding, record index in range.
  db->digest_count_ = static_cast<std::uint32_t>(dc);
  db->record_count_ = static_cast<std::uint32_t>(rc);
  db->digests_ = d + digests_offset;
  db->records_ = d + records_offset;
  db->strings_ = d + strings_offset;
  db->strings_size_ = strings_size;
  if ((dc == 0) != (rc == 0)) return bad("digest and record counts disagree");
  if (dc > rc) return bad("more digests than records");
  // One bucket per digest on average (at least 256, at most 2^22): a lookup then usually costs
  // one probe into the table, i.e. one cache miss.
  db->bucket_bits_ = std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(dc)), 8u, 22u);
  const std::uint32_t buckets = 1u << db->bucket_bits_;
  db->bucket_.assign(buckets + 1, 0);
  std::uint32_t next_bucket = 0;
  for (std::uint64_t i = 0; i < dc; ++i) {
    const std::uint8_t* e = db->digests_ + i * f::kDigestEntrySize;
    if (i > 0 && CompareDigest(e - f::kDigestEntrySize, e) >= 0) {
      return bad("digest table is not in strictly increasing order at entry " + U64(i));
    }
    if (!IsValidKind(e[32])) return bad("unknown kind " + U64(e[32]) + " at entry " + U64(i));
    if (e[33] != 0 || e[34] != 0 || e[35] != 0) return bad("digest entry padding is not zero");
    if (f::LoadU32(e + 36) >= rc) return bad("digest entry " + U64(i) + " names a bad record");
    std::uint32_t prefix = db->BucketOf(e);
    while (next_bucket <= prefix) db->bucket_[next_bucket++] = static_cast<std::uint32_t>(i);
  }
  while (next_bucket <= buckets) db->bucket_[next_bucket++] = static_cast<std::uint32_t>(dc);

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
    const std::uint8_t* r = db->records_ + i * f::kRecordSize;
    const std::uint32_t digest_index = f::LoadU32(r + f::rec::kDigestIndex);
    const std::uint32_t path_offset = f::LoadU32(r + f::rec::kPathOffset);
    const std::uint32_t path_length = f::LoadU32(r + f::rec::kPathLength);
    if (digest_index >= dc) return bad("record " + U64(i) + " names a digest out of range");
    if (path_offset != expected_path_offset) return bad("record " + U64(i) + " path misplaced");
    if (path_length == 0 || path_length > f::kMaxPathLength ||
        path_length > strings_size - path_offset) {
      return bad("record " + U64(i) + " has a bad path length");
    }
    std::string_view path(reinterpret_cast<const char*>(db->strings_ + path_offset), path_length);
    if (path[0] != '/' || std::memchr(path.data(), 0, path.size()) != nullptr) {
      return bad("record " + U64(i) + " path is not absolute or contains NUL");
    }
    if (i > 0 && !(previous < path)) {
      return bad("records are not in strictly increasing path order at record " + U64(i));
    }
    if (first_record[digest_index] == kUnseen) {
      first_record[digest_index] = static_cast<std::uint32_t>(i);
    }
    db->max_file_size_ = std::max(db->max_file_size_, f::LoadU64(r + f::rec::kSize));
    previous = path;
    expected_path_offset += path_length;
  }
  if (expected_path_offset != strings_size) return bad("string section has unused bytes");
  for (std::uint64_t i = 0; i < dc; ++i) {
    if (first_record[i] == kUnseen) return bad("digest entry " + U64(i) + " has no record");
    if (f::LoadU32(db->digests_ + i * f::kDigestEntrySize + 36) != first_record[i]) {
      return bad("digest entry " + U64(i) + " does not name its first record");
    }
  }

  // Signature over every byte before it, by the trust anchor found above.
  hasher.join();
  db->content_digest_ = Sha256(message);
  if (key != nullptr) {
    if (!key->Verify(message, std::span<const std::uint8_t>(d + sig_offset + 4, sig_len))) {
      return MakeError(ErrorCode::kSignature, name +
                                                  ": signature does not verify with trust anchor " +
                                                  ToHex(db->signer_) + " in " + trust->source());
    }
    db->verified_ = true;
  }
  return std::shared_ptr<const Database>(std::move(db));
}

std::optional<LookupResult> Database::Lookup(const Digest& digest) const {
  if (digest_count_ == 0) return std::nullopt;
  std::uint32_t prefix = BucketOf(digest.data());
  std::uint32_t lo = bucket_[prefix];
  std::uint32_t hi = bucket_[prefix + 1];
  while (lo < hi) {
    std::uint32_t mid = lo + (hi - lo) / 2;
    const std::uint8_t* e = digests_ + static_cast<std::size_t>(mid) * f::kDigestEntrySize;
    int c = CompareDigest(e, digest.data());
    if (c == 0) return LookupResult{static_cast<Kind>(e[32]), mid};
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::nullopt;
}

const Digest& Database::DigestAt(std::uint32_t digest_index) const {
  return *reinterpret_cast<const Digest*>(digests_ + static_cast<std::size_t>(digest_index) *
                                                         f::kDigestEntrySize);
}

Kind Database::KindAt(std::uint32_t digest_index) const {
  return static_cast<Kind>(
      digests_[static_cast<std::size_t>(digest_index) * f::kDigestEntrySize + 32]);
}

RecordView Database::RecordAt(std::uint32_t index) const {
  const std::uint8_t* r = records_ + static_cast<std::size_t>(index) * f::kRecordSize;
  std::uint32_t digest_index = f::LoadU32(r + f::rec::kDigestIndex);
  RecordView v;
  v.path = std::string_view(
      reinterpret_cast<const char*>(strings_) + f::LoadU32(r + f::rec::kPathOffset),
      f::LoadU32(r + f::rec::kPathLength));
  v.digest = &DigestAt(digest_index);
  v.kind = KindAt(digest_index);
  v.size = f::LoadU64(r + f::rec::kSize);
  v.mode = f::LoadU32(r + f::rec::kMode);
  v.uid = f::LoadU32(r + f::rec::kUid);
  v.gid = f::LoadU32(r + f::rec::kGid);
  return v;
}

std::optional<std::uint32_t> Database::FindPath(std::string_view path) const {
  std::uint32_t lo = 0;
  std::uint32_t hi = record_count_;
  while (lo < hi) {
    std::uint32_t mid = lo + (hi - lo) / 2;
    std::string_view p = RecordAt(mid).path;
    if (p == path) return mid;
    if (p < path) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::nullopt;
}

RecordView Database::FirstRecordOf(std::uint32_t digest_index) const {
  return RecordAt(
      f::LoadU32(digests_ + static_cast<std::size_t>(digest_index) * f::kDigestEntrySize + 36));
}

}  // namespace hashdb
