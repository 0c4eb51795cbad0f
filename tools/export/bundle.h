#pragma once
// The export bundle as files in memory (name -> bytes), its manifest and signature, and how it
// is stored: a directory or a ustar archive (tar.h). Format: docs/compliance.md, "The bundle".
//
// MANIFEST.sha256 lists every other file of the bundle except MANIFEST.sig, one line each,
// sorted by name, in sha256sum(1) format: "<64 lower-case hex>  <name>\n" (so
// `sha256sum -c MANIFEST.sha256` works too). MANIFEST.sig signs the manifest's exact bytes
// prefixed with kExportDomain, so a manifest signature can never be taken for a database or
// an authorization signature (those use their own prefixes / magic) and vice versa. The
// signer's public key (signer.pem) and what the token says about itself (signer.json) are
// files of the bundle and so covered by the manifest and the signature.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hashdb/keys.h"
#include "hashdb/result.h"

namespace lockctl::exporttool {

using Files = std::map<std::string, std::string>;

// Signed bytes start with this, NUL included (cf. hashdb::kAuthorizationDomain).
inline constexpr std::string_view kExportDomain{"lockd-export-v1\0", 16};
inline constexpr char kManifestName[] = "MANIFEST.sha256";
inline constexpr char kSignatureName[] = "MANIFEST.sig";
inline constexpr char kSignerKeyName[] = "signer.pem";
inline constexpr char kSignerInfoName[] = "signer.json";

// The manifest of files (MANIFEST.sha256 and MANIFEST.sig themselves are left out).
std::string MakeManifest(const Files& files);

struct ManifestEntry {
  std::string sha256;  // 64 lower-case hex
  std::string name;
};
// Strict parse: each line exactly as MakeManifest writes it, names safe (tar.h
// IsSafeMemberName), sorted and unique. Errors name the line.
hashdb::Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text);

// kExportDomain followed by the manifest bytes.
std::vector<std::uint8_t> ManifestSignedBytes(std::string_view manifest);

struct ManifestSignature {
  hashdb::SignatureAlgorithm algorithm = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  hashdb::KeyId key_id{};
  std::vector<std::uint8_t> signature;
};
// MANIFEST.sig text: "lockd-export-signature-v1\nalgorithm: ...\nkey-id: ...\nsignature: ...\n".
hashdb::Result<std::string> SignManifest(std::string_view manifest, hashdb::Signer& signer);
hashdb::Result<ManifestSignature> ParseManifestSignature(std::string_view text,
                                                         const std::string& source_name);

// Writes the bundle to dir (created 0750 if missing; must be empty) with files 0640, each
// created exclusively and fsynced, then the directory fsynced. Never overwrites a file.
hashdb::Status WriteBundleDirectory(const std::string& dir, const Files& files);
// Writes the bundle as a ustar archive (refuses to replace an existing file).
hashdb::Status WriteBundleTar(const std::string& path, const Files& files, std::int64_t mtime);

struct BundleContents {
  Files files;
  // Entries of a directory bundle that are not regular files or directories (symlinks,
  // devices, names that are not plain): listed so that verification can name them.
  std::vector<std::string> irregular;
};
// Reads a bundle directory, or a tar archive (any path that is not a directory). kIo when it
// cannot be read; kFormat when an archive is malformed.
hashdb::Result<BundleContents> ReadBundle(const std::string& path);

}  // namespace lockctl::exporttool
