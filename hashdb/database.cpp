// The database reader: opening, the checks common to every version, lookups and record access.
// The checks of each version are in hashdb/database_v1.cpp and hashdb/database_v2.cpp.
#include "hashdb/database.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "hashdb/database_internal.h"
#include "hashdb/format.h"
#include "hashdb/record_codec.h"
#include "hashdb/sha256.h"
#include "hashdb/unique_fd.h"

namespace hashdb {

namespace f = format;
namespace v2 = format::v2;

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
  if (static_cast<std::uint64_t>(st.st_size) > internal::kMaxFileSize) {
    return MakeError(ErrorCode::kFormat, name + ": file of " + std::to_string(st.st_size) +
                                             " bytes is larger than the 2 GiB limit");
  }
  if (st.st_size < static_cast<off_t>(f::kHeaderSize)) {
    return MakeError(ErrorCode::kFormat, name + ": truncated: " + std::to_string(st.st_size) +
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
  if (size < f::kHeaderSize) {
    return bad("truncated: " + std::to_string(size) + " bytes is shorter than the 128-byte header");
  }
  if (std::memcmp(d + f::off::kMagic, f::kMagic, sizeof(f::kMagic)) != 0) {
    return bad("not a lockd database (bad magic)");
  }
  db->version_ = f::LoadU16(d + f::off::kVersion);
  db->generation_ = f::LoadU64(d + f::off::kGeneration);
  db->created_unix_ = static_cast<std::int64_t>(f::LoadU64(d + f::off::kCreated));
  std::memcpy(db->signer_.data(), d + f::off::kSignerKeyId, db->signer_.size());
  Status checked;
  switch (db->version_) {
    case f::kVersion1:
      checked = VerifyV1(*db, trust);
      break;
    case f::kVersion2:
      checked = VerifyV2(*db, trust);
      break;
    default:
      return bad("format version " + std::to_string(db->version_) +
                 " is not supported (this lockd reads versions 1 and 2)");
  }
  if (!checked.ok()) return checked.error();
  return std::shared_ptr<const Database>(std::move(db));
}

Result<const PublicKey*> Database::FindSigner(const Database& db, const TrustStore* trust) {
  if (trust == nullptr) return static_cast<const PublicKey*>(nullptr);
  const PublicKey* key = trust->Find(db.signer_);
  if (key == nullptr) {
    return MakeError(ErrorCode::kSignature, db.name_ + ": signed by key " + ToHex(db.signer_) +
                                                " which is not a trust anchor in " +
                                                trust->source());
  }
  if (key->algorithm() != db.algorithm_) {
    return MakeError(ErrorCode::kSignature,
                     db.name_ + ": signature algorithm does not match the signer's key");
  }
  return key;
}

Status Database::CheckCommonHeader(Database& db, std::size_t sig_algorithm_offset) {
  namespace f = format;
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kFormat, db.name_ + ": " + what);
  };
  if (f::LoadU16(db.data_ + f::off::kHeaderSize) != f::kHeaderSize) return bad("bad header size");
  if (f::LoadU32(db.data_ + f::off::kFlags) != 0) return bad("unknown header flags");
  const std::uint16_t alg = f::LoadU16(db.data_ + sig_algorithm_offset);
  if (alg != static_cast<std::uint16_t>(SignatureAlgorithm::kEcdsaP256Sha256) &&
      alg != static_cast<std::uint16_t>(SignatureAlgorithm::kEd25519)) {
    return bad("unknown signature algorithm " + std::to_string(alg));
  }
  db.algorithm_ = static_cast<SignatureAlgorithm>(alg);
  return {};
}

Result<std::uint32_t> Database::CheckSignatureTail(const Database& db, std::uint64_t sig_offset) {
  namespace f = format;
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kFormat, db.name_ + ": " + what);
  };
  const std::uint64_t size = db.size_;
  if (sig_offset > size || size - sig_offset < 4) return bad("truncated before the signature");
  const std::uint32_t sig_len = f::LoadU32(db.data_ + sig_offset);
  if (sig_len == 0 || sig_len > f::kMaxSignatureSize) return bad("bad signature length");
  if (size - sig_offset - 4 < sig_len) return bad("truncated inside the signature");
  if (size - sig_offset - 4 != sig_len) {
    return bad("trailing bytes after the signature (" +
               std::to_string(size - sig_offset - 4 - sig_len) + " bytes)");
  }
  return sig_len;
}

Status Database::CheckSignature(Database& db, const PublicKey* key, const TrustStore* trust,
                                std::span<const std::uint8_t> message, std::uint64_t sig_offset,
                                std::uint32_t sig_len) {
  db.content_digest_ = Sha256(message);
  if (key == nullptr) return {};
  if (!key->Verify(message, std::span<const std::uint8_t>(db.data_ + sig_offset + 4, sig_len))) {
    return MakeError(ErrorCode::kSignature, db.name_ +
                                                ": signature does not verify with trust anchor " +
                                                ToHex(db.signer_) + " in " + trust->source());
  }
  db.verified_ = true;
  return {};
}

void Database::SizeBuckets() {
  // One bucket per digest on average (at least 256, at most 2^22): a lookup then usually costs
  // one probe into the table, i.e. one cache miss.
  bucket_bits_ =
      std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(digest_count_)), 8u, 22u);
  bucket_.assign((std::size_t{1} << bucket_bits_) + 1, 0);
}

std::optional<LookupResult> Database::Lookup(const Digest& digest) const {
  if (digest_count_ == 0) return std::nullopt;
  std::uint32_t prefix = BucketOf(digest.data());
  std::uint32_t lo = bucket_[prefix];
  std::uint32_t hi = bucket_[prefix + 1];
  // The class byte of a hit lies apart from its digest (version 2) or in another array
  // (version 1's flags): start loading the likeliest one while the digest is compared, so the
  // two cache misses of a hit overlap.
  __builtin_prefetch(flags_ + lo);
  while (lo < hi) {
    std::uint32_t mid = lo + (hi - lo) / 2;
    const std::uint8_t* e = digests_ + static_cast<std::size_t>(mid) * digest_stride_;
    int c = internal::CompareDigest(e, digest.data());
    if (c == 0) return LookupResult{KindAt(mid), mid, InterpreterAt(mid)};
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::nullopt;
}

std::string_view Database::DirectoryV2(std::uint32_t index) const {
  const std::uint32_t begin = f::LoadU32(directory_offsets_ + 4 * static_cast<std::size_t>(index));
  const std::uint32_t end =
      f::LoadU32(directory_offsets_ + 4 * (static_cast<std::size_t>(index) + 1));
  return std::string_view(reinterpret_cast<const char*>(directory_names_) + begin, end - begin);
}

const std::uint8_t* Database::BlockStartV2(std::uint32_t block) const {
  return stream_ + f::LoadU32(block_index_ + 4 * static_cast<std::size_t>(block));
}

void Database::FillV2(std::uint32_t digest, std::uint32_t attributes, std::uint64_t size,
                      RecordView& view) const {
  const std::uint8_t* a = attributes_ + static_cast<std::size_t>(attributes) * v2::kAttributeSize;
  view.digest = &DigestAt(digest);
  view.digest_index = digest;
  view.kind = KindAt(digest);
  view.interpreter = InterpreterAt(digest);
  view.size = size;
  view.mode = f::LoadU32(a);
  view.uid = f::LoadU32(a + 4);
  view.gid = f::LoadU32(a + 8);
}

void Database::ReadRecordV1(std::uint32_t index, RecordView& v) const {
  const std::uint8_t* r = records_ + static_cast<std::size_t>(index) * f::v1::kRecordSize;
  const std::uint32_t digest_index = f::LoadU32(r + f::v1::rec::kDigestIndex);
  v.path.assign(reinterpret_cast<const char*>(strings_) + f::LoadU32(r + f::v1::rec::kPathOffset),
                f::LoadU32(r + f::v1::rec::kPathLength));
  v.digest = &DigestAt(digest_index);
  v.digest_index = digest_index;
  v.kind = KindAt(digest_index);
  v.interpreter = InterpreterAt(digest_index);
  v.size = f::LoadU64(r + f::v1::rec::kSize);
  v.mode = f::LoadU32(r + f::v1::rec::kMode);
  v.uid = f::LoadU32(r + f::v1::rec::kUid);
  v.gid = f::LoadU32(r + f::v1::rec::kGid);
}

RecordView Database::RecordAt(std::uint32_t index) const {
  RecordCursor cursor(*this, index);
  cursor.Next();
  return cursor.record();
}

std::optional<std::uint32_t> Database::FindPath(std::string_view path) const {
  if (version_ == f::kVersion1) {
    std::uint32_t lo = 0;
    std::uint32_t hi = record_count_;
    while (lo < hi) {
      const std::uint32_t mid = lo + (hi - lo) / 2;
      const std::uint8_t* r = records_ + static_cast<std::size_t>(mid) * f::v1::kRecordSize;
      const std::string_view p(
          reinterpret_cast<const char*>(strings_) + f::LoadU32(r + f::v1::rec::kPathOffset),
          f::LoadU32(r + f::v1::rec::kPathLength));
      if (p == path) return mid;
      if (p < path) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return std::nullopt;
  }
  // Version 2: the last block whose first path is <= path, then a walk inside it.
  const std::uint32_t blocks = static_cast<std::uint32_t>(v2::BlockCount(record_count_));
  if (blocks == 0) return std::nullopt;
  const std::uint8_t* end = stream_ + stream_size_;
  std::uint32_t lo = 0;
  std::uint32_t hi = blocks;
  while (hi - lo > 1) {
    const std::uint32_t mid = lo + (hi - lo) / 2;
    v2::RecordFields r;
    v2::RecordError error = v2::RecordError::kNone;
    if (v2::DecodeRecord(BlockStartV2(mid), end, r, error) == nullptr) return std::nullopt;
    if (v2::CompareSplitPath(DirectoryV2(r.directory), r.suffix, path) <= 0) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const std::uint8_t* p = BlockStartV2(lo);
  const std::uint32_t first = lo * v2::kRecordsPerBlock;
  const std::uint32_t last = std::min(record_count_, first + v2::kRecordsPerBlock);
  std::string_view dir;
  v2::NameBuilder name;
  for (std::uint32_t i = first; i < last; ++i) {
    v2::RecordFields r;
    v2::RecordError error = v2::RecordError::kNone;
    p = v2::DecodeRecord(p, end, r, error);
    if (p == nullptr) return std::nullopt;
    if (r.has_directory) dir = DirectoryV2(r.directory);
    name.Apply(r);
    const int c = v2::CompareSplitPath(dir, name.name(), path);
    if (c == 0) return i;
    if (c > 0) return std::nullopt;
  }
  return std::nullopt;
}

RecordView Database::FirstRecordOf(std::uint32_t digest_index) const {
  if (version_ == f::kVersion1) {
    return RecordAt(
        f::LoadU32(digests_ + static_cast<std::size_t>(digest_index) * digest_stride_ + 36));
  }
  RecordCursor cursor(*this);
  while (cursor.Next()) {
    if (cursor.record().digest_index == digest_index) return cursor.record();
  }
  return RecordView{};
}

RecordCursor::RecordCursor(const Database& db, std::uint32_t first) : db_(db), index_(first) {
  if (db_.version_ != f::kVersion2 || first >= db_.record_count_) return;
  // Start at the block's first record, which names its directory, and skip to `first`.
  const std::uint32_t block = first / v2::kRecordsPerBlock;
  index_ = block * v2::kRecordsPerBlock;
  pos_ = db_.BlockStartV2(block);
  while (index_ < first && Next()) {
  }
}

bool RecordCursor::Next() {
  if (index_ >= db_.record_count_) return false;
  if (db_.version_ == f::kVersion1) {
    db_.ReadRecordV1(index_++, view_);
    return true;
  }
  if (index_ % v2::kRecordsPerBlock == 0) pos_ = db_.BlockStartV2(index_ / v2::kRecordsPerBlock);
  v2::RecordFields r;
  v2::RecordError error = v2::RecordError::kNone;
  const std::uint8_t* next = v2::DecodeRecord(pos_, db_.stream_ + db_.stream_size_, r, error);
  if (next == nullptr) {  // cannot happen after verification; end the walk rather than guess
    index_ = db_.record_count_;
    return false;
  }
  pos_ = next;
  if (r.has_directory) directory_ = db_.DirectoryV2(r.directory);
  name_.Apply(r);
  view_.path.assign(directory_);
  view_.path += '/';
  view_.path.append(name_.name());
  db_.FillV2(r.digest, r.attributes, r.size, view_);
  ++index_;
  return true;
}

}  // namespace hashdb
