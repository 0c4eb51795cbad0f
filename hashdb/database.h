#pragma once
// The signed allowlist database, read side. A Database is an mmap of one file that has passed
// every check: magic, version, header fields, every offset and count against the file size,
// canonical layout, sort order, every record, policy, and the signature against the trust
// anchors. A file that fails any check is rejected whole; there is no partially valid Database.
// Format versions 1 and 2 are read (docs/database-format.md).
//
// Thread-safety: a Database is immutable after Open and may be read from any number of threads.
// Lookups never read outside the mapping.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/entry.h"
#include "hashdb/format.h"
#include "hashdb/keys.h"
#include "hashdb/policy.h"
#include "hashdb/record_codec.h"
#include "hashdb/result.h"
#include "hashdb/trust_store.h"

namespace hashdb {

struct LookupResult {
  Kind kind;
  std::uint32_t digest_index;
  // The content is an interpreter (flagged when the database was built: by name from the
  // policy's interpreters, or by `lockctl db build --interpreter`). Version-1 files carry no
  // flag; for them it is derived at open from the names of the paths with this content.
  bool interpreter = false;
};

// One metadata record. The path is a copy: version 2 stores it as a directory and a name.
struct RecordView {
  std::string path;
  const Digest* digest = nullptr;  // points into the mapping
  Kind kind = Kind::kOtherExecutable;
  bool interpreter = false;  // of its content, as LookupResult::interpreter
  std::uint64_t size = 0;
  std::uint32_t mode = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t digest_index = 0;
};

class Database;

// Reads records in path order from a given index on: cheap per record, where RecordAt costs
// up to a block's worth of decoding. Not thread-safe itself; any number may read one Database.
class RecordCursor {
 public:
  explicit RecordCursor(const Database& db, std::uint32_t first = 0);
  // Moves to the next record; false after the last. The view returned by record() stays
  // valid until the next call.
  bool Next();
  const RecordView& record() const { return view_; }
  std::uint32_t index() const { return index_ - 1; }

 private:
  const Database& db_;
  std::uint32_t index_;                // of the record Next() reads
  const std::uint8_t* pos_ = nullptr;  // version 2: where that record starts
  std::string_view directory_;         // version 2: the directory of the previous record
  format::v2::NameBuilder name_;       // version 2: the name of the previous record
  RecordView view_;
};

class Database {
 public:
  // Reads and verifies the file at path. name_for_errors defaults to path.
  static Result<std::shared_ptr<const Database>> Open(const std::string& path,
                                                      const TrustStore& trust);
  // Verifies an already open file descriptor (duplicated; the caller keeps its own).
  static Result<std::shared_ptr<const Database>> OpenFd(int fd, const std::string& name,
                                                        const TrustStore& trust);
  // Verifies bytes in memory (copied). For tests and fuzzers.
  static Result<std::shared_ptr<const Database>> FromBytes(std::span<const std::uint8_t> bytes,
                                                           const std::string& name,
                                                           const TrustStore& trust);
  // Structural checks only, no signature check: for `lockctl db show` of a file whose signer
  // is not (yet) trusted. Never use the result for enforcement.
  static Result<std::shared_ptr<const Database>> OpenUnverified(const std::string& path);
  static Result<std::shared_ptr<const Database>> FromBytesUnverified(
      std::span<const std::uint8_t> bytes, const std::string& name);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Is this content allowlisted, as what. One or two cache misses; never allocates.
  std::optional<LookupResult> Lookup(const Digest& digest) const;

  const std::string& name() const { return name_; }
  std::uint16_t format_version() const { return version_; }
  std::uint64_t generation() const { return generation_; }
  std::int64_t created_unix() const { return created_unix_; }
  const KeyId& signer_key_id() const { return signer_; }
  SignatureAlgorithm signature_algorithm() const { return algorithm_; }
  const Policy& policy() const { return policy_; }
  bool signature_verified() const { return verified_; }
  std::uint32_t digest_count() const { return digest_count_; }
  std::uint32_t record_count() const { return record_count_; }
  std::uint64_t file_size() const { return size_; }
  // The largest file size among the records: content longer than this cannot be in the
  // allowlist, so lockd denies it without reading a byte (a 1 TiB sparse file is not hashed).
  std::uint64_t max_file_size() const { return max_file_size_; }
  // SHA-256 of the signed message (which commits to every byte before the signature): names
  // this exact database content in logs and reports without hashing the file a second time.
  const Digest& content_digest() const { return content_digest_; }

  const Digest& DigestAt(std::uint32_t digest_index) const {
    return *reinterpret_cast<const Digest*>(digests_ + static_cast<std::size_t>(digest_index) *
                                                           digest_stride_);
  }
  Kind KindAt(std::uint32_t digest_index) const {
    return static_cast<Kind>(classes_[static_cast<std::size_t>(digest_index) * class_stride_] &
                             format::v2::kClassKindMask);
  }
  bool InterpreterAt(std::uint32_t digest_index) const {
    return (flags_[digest_index] & format::v2::kClassInterpreter) != 0;
  }
  // Records are in path order. index < record_count(). Random access: for a walk over many
  // records, use a RecordCursor.
  RecordView RecordAt(std::uint32_t index) const;
  // Index of the record with exactly this path, if any (binary search).
  std::optional<std::uint32_t> FindPath(std::string_view path) const;
  // The first record (in path order) whose content has this digest index. Version 1 stores
  // it; version 2 finds it by a walk over the records (for reports, not for lockd's hot path).
  RecordView FirstRecordOf(std::uint32_t digest_index) const;

 private:
  friend class RecordCursor;
  Database() = default;
  // trust == nullptr: structural checks only (the *Unverified entry points).
  static Result<std::shared_ptr<const Database>> MapAndVerify(int fd, const std::string& name,
                                                              const TrustStore* trust);
  static Result<std::shared_ptr<const Database>> CopyAndVerify(std::span<const std::uint8_t> bytes,
                                                               const std::string& name,
                                                               const TrustStore* trust);
  static Result<std::shared_ptr<const Database>> Verify(std::unique_ptr<Database> db,
                                                        const TrustStore* trust);
  // Per version (hashdb/database_v1.cpp, hashdb/database_v2.cpp): every check after the
  // magic and the version, ending with the signature (trust == nullptr: not checked).
  static Status VerifyV1(Database& db, const TrustStore* trust);
  static Status VerifyV2(Database& db, const TrustStore* trust);
  // Version 1: the interpreter flag of each digest, from its paths' names.
  void DeriveInterpreterFlagsV1();
  // Fills view from the record at index (version 1).
  void ReadRecordV1(std::uint32_t index, RecordView& view) const;
  // Fills the digest, attribute and size fields of view (version 2).
  void FillV2(std::uint32_t digest, std::uint32_t attributes, std::uint64_t size,
              RecordView& view) const;
  std::string_view DirectoryV2(std::uint32_t index) const;
  const std::uint8_t* BlockStartV2(std::uint32_t block) const;
  // Checks of the signer against the trust store; the key to verify with (nullptr: no trust).
  static Result<const PublicKey*> FindSigner(const Database& db, const TrustStore* trust);
  // The header fields both versions share (header size, flags, signature algorithm at
  // sig_algorithm_offset, which sets algorithm_), with the same messages for both.
  static Status CheckCommonHeader(Database& db, std::size_t sig_algorithm_offset);
  // The signature block at sig_offset: inside the file, a length in range, nothing after it.
  // Returns the signature's length.
  static Result<std::uint32_t> CheckSignatureTail(const Database& db, std::uint64_t sig_offset);
  // Sets content_digest_ from the signed message and, with a key (trust given), verifies the
  // signature over it (verified_ on success; a kSignature error naming the anchor otherwise).
  static Status CheckSignature(Database& db, const PublicKey* key, const TrustStore* trust,
                               std::span<const std::uint8_t> message, std::uint64_t sig_offset,
                               std::uint32_t sig_len);
  // One step of the bucket index build, shared by both versions (see bucket_).
  std::uint32_t BucketOf(const std::uint8_t* digest) const {
    std::uint32_t top = (static_cast<std::uint32_t>(digest[0]) << 16) |
                        (static_cast<std::uint32_t>(digest[1]) << 8) | digest[2];
    return top >> (24 - bucket_bits_);
  }
  void SizeBuckets();

  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t max_file_size_ = 0;
  bool mapped_ = false;
  std::vector<std::uint8_t> owned_;  // FromBytes
  std::string name_;
  std::uint16_t version_ = 0;
  std::uint64_t generation_ = 0;
  std::int64_t created_unix_ = 0;
  KeyId signer_{};
  SignatureAlgorithm algorithm_ = SignatureAlgorithm::kEcdsaP256Sha256;
  Policy policy_;
  bool verified_ = false;
  std::uint32_t digest_count_ = 0;
  std::uint32_t record_count_ = 0;
  Digest content_digest_{};
  // Digest table: digest i at digests_ + i * digest_stride_ (40 in version 1, 32 in version 2),
  // its class byte (kind, and in version 2 the flags) at classes_ + i * class_stride_.
  const std::uint8_t* digests_ = nullptr;
  std::size_t digest_stride_ = 0;
  const std::uint8_t* classes_ = nullptr;
  std::size_t class_stride_ = 0;
  // One byte per digest whose kClassInterpreter bit is the interpreter flag.
  const std::uint8_t* flags_ = nullptr;
  // Version 1.
  const std::uint8_t* records_ = nullptr;
  const std::uint8_t* strings_ = nullptr;
  std::uint64_t strings_size_ = 0;
  // Version 1: kClassInterpreter or 0 per digest, derived from the names (flags_ points here).
  std::vector<std::uint8_t> v1_flags_;
  // Version 2.
  const std::uint8_t* directory_offsets_ = nullptr;
  const std::uint8_t* directory_names_ = nullptr;
  std::uint32_t directory_count_ = 0;
  const std::uint8_t* attributes_ = nullptr;
  std::uint32_t attribute_count_ = 0;
  const std::uint8_t* block_index_ = nullptr;
  const std::uint8_t* stream_ = nullptr;
  std::uint64_t stream_size_ = 0;
  // Lookup index: the digest's first bucket_bits_ bits, big-endian, select a bucket;
  // bucket_[b] = index of the first digest whose bucket is >= b; 2^bucket_bits_ + 1 entries.
  unsigned bucket_bits_ = 8;
  std::vector<std::uint32_t> bucket_;
};

}  // namespace hashdb
