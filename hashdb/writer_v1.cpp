// Writer of format version 1: what lockd wrote before version 2, kept so that a database can
// still be made for a terminal whose lockd reads only version 1, and for the tests that show
// version-1 files still read.
#include <algorithm>
#include <cstring>
#include <ctime>
#include <thread>

#include "hashdb/format.h"
#include "hashdb/record_codec.h"
#include "hashdb/writer.h"
#include "hashdb/writer_internal.h"

namespace hashdb::internal {

namespace {

Error Bad(const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); }

Status CheckEntryV1(const FileEntry& e) {
  if (e.path.empty() || e.path[0] != '/') return Bad("path is not absolute: '" + e.path + "'");
  if (e.path.size() > format::kMaxPathLength) return Bad("path longer than 4096 bytes");
  if (e.path.find('\0') != std::string::npos) return Bad("path contains a NUL byte");
  if (!IsValidKind(static_cast<std::uint8_t>(e.kind))) return Bad("bad kind for " + e.path);
  return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> BuildDatabaseV1(const DatabaseContents& contents,
                                                  Signer& signer) {
  namespace f = format;
  namespace v1 = format::v1;
  // Version 1 has no place for the newer policy settings nor for an interpreter flag; its
  // reader derives the flag from the file names, so only a flag that names imply fits.
  if (!FitsVersion1(contents.policy)) {
    return Bad(
        "format version 1 cannot hold watch, restrict_user_namespaces, "
        "deny_user_writable or trusted_owners other than their defaults");
  }
  HASHDB_TRY(ValidatePolicy(contents.policy));
  for (const auto& e : contents.entries) {
    if (e.interpreter &&
        !IsInterpreterName(format::v2::Split(e.path).name, contents.policy.interpreters)) {
      return Bad("format version 1 cannot flag " + e.path +
                 " as an interpreter (its name is not one of the policy's interpreters)");
    }
  }
  // Records in path order (std::string compares bytes as unsigned char, like memcmp).
  std::vector<const FileEntry*> records;
  records.reserve(contents.entries.size());
  for (const auto& e : contents.entries) {
    HASHDB_TRY(CheckEntryV1(e));
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
  // Unique digests in byte order; the kind of a digest is the lowest kind value among its paths
  // (ELF executable before shared object before script before other), and its record is the
  // first of its paths in path order.
  struct DigestSlot {
    Digest digest;
    Kind kind;
    std::uint32_t first_record;
  };
  std::vector<std::uint32_t> by_digest(records.size());
  for (std::uint32_t i = 0; i < records.size(); ++i) by_digest[i] = i;
  std::sort(by_digest.begin(), by_digest.end(), [&](std::uint32_t a, std::uint32_t b) {
    int c = std::memcmp(records[a]->digest.data(), records[b]->digest.data(), kDigestSize);
    return c != 0 ? c < 0 : a < b;
  });
  std::vector<DigestSlot> digests;
  std::vector<std::uint32_t> record_digest(records.size());
  for (std::uint32_t r : by_digest) {
    if (digests.empty() || digests.back().digest != records[r]->digest) {
      digests.push_back({records[r]->digest, records[r]->kind, r});
    } else if (records[r]->kind < digests.back().kind) {
      digests.back().kind = records[r]->kind;
    }
    record_digest[r] = static_cast<std::uint32_t>(digests.size() - 1);
  }

  std::uint64_t strings_size = 0;
  for (const auto* r : records) strings_size += r->path.size();
  if (strings_size > UINT32_MAX) return Bad("paths exceed 4 GiB in total");

  const std::uint64_t digests_offset = f::kHeaderSize;
  const std::uint64_t records_offset = digests_offset + digests.size() * v1::kDigestEntrySize;
  const std::uint64_t strings_offset = records_offset + records.size() * v1::kRecordSize;
  const std::vector<std::uint8_t> policy = SerializePolicy(contents.policy, f::kVersion1);
  const std::uint64_t policy_offset = f::AlignUp(strings_offset + strings_size);
  const std::uint64_t signature_offset = f::AlignUp(policy_offset + policy.size());

  std::vector<std::uint8_t> out(signature_offset, 0);
  std::uint8_t* h = out.data();
  std::memcpy(h + f::off::kMagic, f::kMagic, sizeof(f::kMagic));
  f::StoreU16(h + f::off::kVersion, f::kVersion1);
  f::StoreU16(h + f::off::kHeaderSize, f::kHeaderSize);
  f::StoreU64(h + f::off::kGeneration, contents.generation);
  std::int64_t created = contents.created_unix != 0 ? contents.created_unix : std::time(nullptr);
  f::StoreU64(h + f::off::kCreated, static_cast<std::uint64_t>(created));
  const KeyId& signer_id = signer.public_key().id();
  std::memcpy(h + f::off::kSignerKeyId, signer_id.data(), signer_id.size());
  f::StoreU32(h + f::off::kDigestCount, static_cast<std::uint32_t>(digests.size()));
  f::StoreU32(h + f::off::kRecordCount, static_cast<std::uint32_t>(records.size()));
  f::StoreU64(h + v1::off::kDigestsOffset, digests_offset);
  f::StoreU64(h + v1::off::kRecordsOffset, records_offset);
  f::StoreU64(h + v1::off::kStringsOffset, strings_offset);
  f::StoreU64(h + v1::off::kStringsSize, strings_size);
  f::StoreU64(h + v1::off::kPolicyOffset, policy_offset);
  f::StoreU32(h + v1::off::kPolicySize, static_cast<std::uint32_t>(policy.size()));
  f::StoreU16(h + v1::off::kSigAlgorithm,
              static_cast<std::uint16_t>(signer.public_key().algorithm()));
  f::StoreU64(h + v1::off::kSignatureOffset, signature_offset);

  std::uint8_t* p = out.data() + digests_offset;
  for (const auto& slot : digests) {
    std::memcpy(p, slot.digest.data(), slot.digest.size());
    p[32] = static_cast<std::uint8_t>(slot.kind);
    f::StoreU32(p + 36, slot.first_record);
    p += v1::kDigestEntrySize;
  }
  std::uint32_t path_offset = 0;
  std::uint8_t* strings = out.data() + strings_offset;
  for (std::uint32_t i = 0; i < records.size(); ++i) {
    const FileEntry* r = records[i];
    f::StoreU32(p + v1::rec::kDigestIndex, record_digest[i]);
    f::StoreU32(p + v1::rec::kMode, r->mode);
    f::StoreU32(p + v1::rec::kUid, r->uid);
    f::StoreU32(p + v1::rec::kGid, r->gid);
    f::StoreU64(p + v1::rec::kSize, r->size);
    f::StoreU32(p + v1::rec::kPathOffset, path_offset);
    f::StoreU32(p + v1::rec::kPathLength, static_cast<std::uint32_t>(r->path.size()));
    std::memcpy(strings + path_offset, r->path.data(), r->path.size());
    path_offset += static_cast<std::uint32_t>(r->path.size());
    p += v1::kRecordSize;
  }
  std::memcpy(out.data() + policy_offset, policy.data(), policy.size());

  HASHDB_TRY(SignAndAppend(out, signer));
  return out;
}

}  // namespace hashdb::internal
