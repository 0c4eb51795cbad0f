#pragma once
// Test helpers for building small signed databases in memory.

#include <memory>
#include <string>
#include <vector>

#include "hashdb/database.h"
#include "hashdb/keys.h"
#include "hashdb/writer.h"

namespace testsupport {

// A FileEntry whose digest is SHA-256 of `content`.
hashdb::FileEntry EntryFor(const std::string& path, const std::string& content,
                           hashdb::Kind kind = hashdb::Kind::kElfExecutable);

std::unique_ptr<hashdb::PrivateKey> NewKey(
    hashdb::SignatureAlgorithm alg = hashdb::SignatureAlgorithm::kEcdsaP256Sha256);

// Builds and signs; aborts the test (doctest REQUIRE) on failure.
std::vector<std::uint8_t> BuildBytes(const hashdb::DatabaseContents& contents,
                                     hashdb::Signer& signer);

hashdb::TrustStore TrustOf(const hashdb::Signer& signer);

// A fresh private temporary directory, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes a whole file (mode applied with chmod); REQUIREs success.
void WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace testsupport
