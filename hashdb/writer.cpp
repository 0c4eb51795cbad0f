// Writer of format version 2 (the current one), and what both versions share.
#include "hashdb/writer.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <string_view>
#include <thread>
#include <tuple>

#include "hashdb/format.h"
#include "hashdb/record_codec.h"
#include "hashdb/writer_internal.h"

namespace hashdb {

namespace internal {

namespace {

namespace f = format;
namespace v2 = format::v2;

Error Bad(const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); }

Status CheckEntryV2(const FileEntry& e) {
  if (e.path.empty() || e.path[0] != '/') return Bad("path is not absolute: '" + e.path + "'");
  if (e.path.size() > f::kMaxPathLength) return Bad("path longer than 4096 bytes");
  if (e.path.find('\0') != std::string::npos) return Bad("path contains a NUL byte");
  if (e.path == "/" || !IsCanonicalAbsolutePath(e.path)) {
    return Bad("path is not canonical (an empty, '.' or '..' component, or a trailing '/'): '" +
               e.path + "'");
  }
  if (v2::Split(e.path).name.size() > v2::kMaxNameLength) {
    return Bad("last path component longer than 255 bytes: '" + e.path + "'");
  }
  if (!IsValidKind(static_cast<std::uint8_t>(e.kind))) return Bad("bad kind for " + e.path);
  return {};
}

struct Attributes {
  std::uint32_t mode;
  std::uint32_t uid;
  std::uint32_t gid;
  auto operator<=>(const Attributes&) const = default;
};

}  // namespace

Status SignAndAppend(std::vector<std::uint8_t>& out, Signer& signer) {
  auto message = f::SignedMessage(out, std::max(1u, std::thread::hardware_concurrency()));
  auto signature = signer.Sign(message);
  if (!signature) return signature.error().Wrap("signing the database");
  if (signature->empty() || signature->size() > f::kMaxSignatureSize) {
    return MakeError(ErrorCode::kCrypto, "signer returned a signature of bad size");
  }
  const std::size_t at = out.size();
  out.resize(at + 4 + signature->size());
  f::StoreU32(out.data() + at, static_cast<std::uint32_t>(signature->size()));
  std::memcpy(out.data() + at + 4, signature->data(), signature->size());
  return {};
}

Result<std::vector<std::uint8_t>> BuildDatabaseV2(const DatabaseContents& contents,
                                                  Signer& signer) {
  HASHDB_TRY(ValidatePolicy(contents.policy));
  // Records in path order (std::string compares bytes as unsigned char, like memcmp).
  std::vector<const FileEntry*> records;
  records.reserve(contents.entries.size());
  for (const auto& e : contents.entries) {
    HASHDB_TRY(CheckEntryV2(e));
    records.push_back(&e);
  }
  std::sort(records.begin(), records.end(),
            [](const FileEntry* a, const FileEntry* b) { return a->path < b->path; });
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (records[i]->path == records[i - 1]->path) {
      return Bad("duplicate path in entries: " + records[i]->path);
    }
  }
  if (records.size() > UINT32_MAX) return Bad("too many entries");
  const std::uint32_t rc = static_cast<std::uint32_t>(records.size());

  // Unique digests in byte order; the kind of a digest is the lowest kind value among its paths
  // (ELF executable before shared object before script before other); it is an interpreter if
  // any of its paths is.
  std::vector<std::uint32_t> by_digest(rc);
  for (std::uint32_t i = 0; i < rc; ++i) by_digest[i] = i;
  std::sort(by_digest.begin(), by_digest.end(), [&](std::uint32_t a, std::uint32_t b) {
    int c = std::memcmp(records[a]->digest.data(), records[b]->digest.data(), kDigestSize);
    return c != 0 ? c < 0 : a < b;
  });
  std::vector<Digest> digests;
  std::vector<std::uint8_t> classes;
  std::vector<std::uint32_t> record_digest(rc);
  for (std::uint32_t r : by_digest) {
    const FileEntry& e = *records[r];
    const bool interpreter =
        e.interpreter || IsInterpreterName(v2::Split(e.path).name, contents.policy.interpreters);
    const std::uint8_t flag = interpreter ? v2::kClassInterpreter : 0;
    if (digests.empty() || digests.back() != e.digest) {
      digests.push_back(e.digest);
      classes.push_back(static_cast<std::uint8_t>(e.kind) | flag);
    } else {
      std::uint8_t& c = classes.back();
      const std::uint8_t kind =
          std::min<std::uint8_t>(c & v2::kClassKindMask, static_cast<std::uint8_t>(e.kind));
      c = static_cast<std::uint8_t>((c & ~v2::kClassKindMask) | kind | flag);
    }
    record_digest[r] = static_cast<std::uint32_t>(digests.size() - 1);
  }

  // Directories: each distinct one once, in byte order. Records in path order mostly repeat
  // their predecessor's directory, so only the changes are collected before sorting.
  std::vector<std::string_view> directories;
  for (std::uint32_t i = 0; i < rc; ++i) {
    const std::string_view dir = v2::Split(records[i]->path).directory;
    if (directories.empty() || directories.back() != dir) directories.push_back(dir);
  }
  std::sort(directories.begin(), directories.end());
  directories.erase(std::unique(directories.begin(), directories.end()), directories.end());
  std::uint64_t directory_names_size = 0;
  for (std::string_view d : directories) directory_names_size += d.size();
  if (directory_names_size > UINT32_MAX) return Bad("directory names exceed 4 GiB in total");

  // Attributes: each distinct (mode, uid, gid) once, in numeric order.
  std::vector<Attributes> attributes;
  for (const FileEntry* e : records) {
    const Attributes a{e->mode, e->uid, e->gid};
    if (attributes.empty() || attributes.back() != a) attributes.push_back(a);
  }
  std::sort(attributes.begin(), attributes.end());
  attributes.erase(std::unique(attributes.begin(), attributes.end()), attributes.end());

  // The record stream and its block index.
  std::vector<std::uint8_t> stream;
  stream.reserve(static_cast<std::size_t>(rc) * 24);
  std::vector<std::uint32_t> block_index;
  block_index.reserve(v2::BlockCount(rc));
  std::string_view previous_dir;
  std::string_view previous_name;
  std::uint32_t dir_index = 0;
  std::uint32_t attr_index = 0;
  for (std::uint32_t i = 0; i < rc; ++i) {
    const FileEntry& e = *records[i];
    const v2::SplitPath split = v2::Split(e.path);
    v2::RecordFields fields;
    fields.has_directory = i % v2::kRecordsPerBlock == 0 || split.directory != previous_dir;
    if (i % v2::kRecordsPerBlock == 0) {
      if (stream.size() > UINT32_MAX) return Bad("records exceed 4 GiB");
      block_index.push_back(static_cast<std::uint32_t>(stream.size()));
    }
    if (i == 0 || split.directory != previous_dir) {
      dir_index = static_cast<std::uint32_t>(
          std::lower_bound(directories.begin(), directories.end(), split.directory) -
          directories.begin());
      previous_dir = split.directory;
    }
    fields.directory = dir_index;
    // Names in one directory are in order, so this one sorts after the previous one by its
    // first byte after the shared prefix (never a prefix of it): the suffix is never empty.
    fields.shared = fields.has_directory
                        ? 0
                        : static_cast<std::uint32_t>(v2::CommonPrefix(previous_name, split.name));
    fields.suffix = split.name.substr(fields.shared);
    previous_name = split.name;
    fields.digest = record_digest[i];
    const Attributes a{e.mode, e.uid, e.gid};
    if (attributes[attr_index] != a) {
      attr_index = static_cast<std::uint32_t>(
          std::lower_bound(attributes.begin(), attributes.end(), a) - attributes.begin());
    }
    fields.attributes = attr_index;
    fields.size = e.size;
    v2::EncodeRecord(stream, fields);
  }

  const std::vector<std::uint8_t> policy = SerializePolicy(contents.policy, f::kVersion2);
  const auto layout = v2::ComputeLayout(digests.size(), rc, directories.size(), attributes.size(),
                                        directory_names_size, stream.size(), policy.size());
  if (!layout) return Bad("database too large");

  std::vector<std::uint8_t> out(layout->signature, 0);
  std::uint8_t* h = out.data();
  std::memcpy(h + f::off::kMagic, f::kMagic, sizeof(f::kMagic));
  f::StoreU16(h + f::off::kVersion, f::kVersion2);
  f::StoreU16(h + f::off::kHeaderSize, f::kHeaderSize);
  f::StoreU64(h + f::off::kGeneration, contents.generation);
  const std::int64_t created =
      contents.created_unix != 0 ? contents.created_unix : std::time(nullptr);
  f::StoreU64(h + f::off::kCreated, static_cast<std::uint64_t>(created));
  const KeyId& signer_id = signer.public_key().id();
  std::memcpy(h + f::off::kSignerKeyId, signer_id.data(), signer_id.size());
  f::StoreU32(h + f::off::kDigestCount, static_cast<std::uint32_t>(digests.size()));
  f::StoreU32(h + f::off::kRecordCount, rc);
  f::StoreU32(h + v2::off::kDirectoryCount, static_cast<std::uint32_t>(directories.size()));
  f::StoreU32(h + v2::off::kAttributeCount, static_cast<std::uint32_t>(attributes.size()));
  f::StoreU64(h + v2::off::kDirectoryNamesSize, directory_names_size);
  f::StoreU64(h + v2::off::kRecordBytes, stream.size());
  f::StoreU32(h + v2::off::kPolicySize, static_cast<std::uint32_t>(policy.size()));
  f::StoreU16(h + v2::off::kSigAlgorithm,
              static_cast<std::uint16_t>(signer.public_key().algorithm()));
  f::StoreU64(h + v2::off::kSignatureOffset, layout->signature);

  for (std::size_t i = 0; i < digests.size(); ++i) {
    std::memcpy(out.data() + layout->digests + i * v2::kDigestEntrySize, digests[i].data(),
                kDigestSize);
  }
  if (!classes.empty()) std::memcpy(out.data() + layout->classes, classes.data(), classes.size());
  std::uint32_t name_offset = 0;
  for (std::size_t i = 0; i < directories.size(); ++i) {
    f::StoreU32(out.data() + layout->directory_offsets + 4 * i, name_offset);
    std::memcpy(out.data() + layout->directory_names + name_offset, directories[i].data(),
                directories[i].size());
    name_offset += static_cast<std::uint32_t>(directories[i].size());
  }
  f::StoreU32(out.data() + layout->directory_offsets + 4 * directories.size(), name_offset);
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    std::uint8_t* a = out.data() + layout->attributes + i * v2::kAttributeSize;
    f::StoreU32(a, attributes[i].mode);
    f::StoreU32(a + 4, attributes[i].uid);
    f::StoreU32(a + 8, attributes[i].gid);
  }
  for (std::size_t i = 0; i < block_index.size(); ++i) {
    f::StoreU32(out.data() + layout->block_index + 4 * i, block_index[i]);
  }
  if (!stream.empty()) std::memcpy(out.data() + layout->records, stream.data(), stream.size());
  std::memcpy(out.data() + layout->policy, policy.data(), policy.size());

  HASHDB_TRY(SignAndAppend(out, signer));
  return out;
}

}  // namespace internal

Result<std::vector<std::uint8_t>> BuildDatabase(const DatabaseContents& contents, Signer& signer) {
  switch (contents.format_version) {
    case format::kVersion1:
      return internal::BuildDatabaseV1(contents, signer);
    case format::kVersion2:
      return internal::BuildDatabaseV2(contents, signer);
    default:
      return MakeError(ErrorCode::kInvalidArgument, "cannot write format version " +
                                                        std::to_string(contents.format_version) +
                                                        " (this lockctl writes versions 1 and 2)");
  }
}

}  // namespace hashdb
