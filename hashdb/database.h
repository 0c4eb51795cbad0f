#pragma once
// The signed allowlist database, read side. A Database is an mmap of one file that has passed
// every check: magic, version, header fields, every offset and count against the file size,
// canonical layout, sort order, policy, and the signature against the trust anchors. A file that
// fails any check is rejected whole; there is no partially valid Database.
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
#include "hashdb/result.h"
#include "hashdb/trust_store.h"

namespace hashdb {

struct LookupResult {
  Kind kind;
  std::uint32_t digest_index;
};

// One metadata record, viewed in place (path points into the mapping).
struct RecordView {
  std::string_view path;
  const Digest* digest;
  Kind kind;
  std::uint64_t size;
  std::uint32_t mode;
  std::uint32_t uid;
  std::uint32_t gid;
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

  std::optional<LookupResult> Lookup(const Digest& digest) const;

  const std::string& name() const { return name_; }
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

  const Digest& DigestAt(std::uint32_t digest_index) const;
  Kind KindAt(std::uint32_t digest_index) const;
  // Records are in path order. index < record_count().
  RecordView RecordAt(std::uint32_t index) const;
  // Index of the record with exactly this path, if any (binary search).
  std::optional<std::uint32_t> FindPath(std::string_view path) const;
  // The first record (in path order) whose content has this digest index.
  RecordView FirstRecordOf(std::uint32_t digest_index) const;

 private:
  Database() = default;
  // trust == nullptr: structural checks only (the *Unverified entry points).
  static Result<std::shared_ptr<const Database>> MapAndVerify(int fd, const std::string& name,
                                                              const TrustStore* trust);
  static Result<std::shared_ptr<const Database>> CopyAndVerify(std::span<const std::uint8_t> bytes,
                                                               const std::string& name,
                                                               const TrustStore* trust);
  static Result<std::shared_ptr<const Database>> Verify(std::unique_ptr<Database> db,
                                                        const TrustStore* trust);

  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t max_file_size_ = 0;
  bool mapped_ = false;
  std::vector<std::uint8_t> owned_;  // FromBytes
  std::string name_;
  std::uint64_t generation_ = 0;
  std::int64_t created_unix_ = 0;
  KeyId signer_{};
  SignatureAlgorithm algorithm_ = SignatureAlgorithm::kEcdsaP256Sha256;
  Policy policy_;
  bool verified_ = false;
  std::uint32_t digest_count_ = 0;
  std::uint32_t record_count_ = 0;
  const std::uint8_t* digests_ = nullptr;
  const std::uint8_t* records_ = nullptr;
  const std::uint8_t* strings_ = nullptr;
  std::uint64_t strings_size_ = 0;
  Digest content_digest_{};
  // The digest's first bucket_bits_ bits, big-endian.
  std::uint32_t BucketOf(const std::uint8_t* digest) const {
    std::uint32_t top = (static_cast<std::uint32_t>(digest[0]) << 16) |
                        (static_cast<std::uint32_t>(digest[1]) << 8) | digest[2];
    return top >> (24 - bucket_bits_);
  }
  // bucket_[b] = index of the first digest whose bucket is >= b; 2^bucket_bits_ + 1 entries.
  unsigned bucket_bits_ = 8;
  std::vector<std::uint32_t> bucket_;
};

}  // namespace hashdb
