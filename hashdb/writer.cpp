#include "hashdb/writer.h"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <thread>

#include "hashdb/format.h"

namespace hashdb {

namespace {

Error Bad(const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); }

Status CheckEntry(const FileEntry& e) {
  if (e.path.empty() || e.path[0] != '/') return Bad("path is not absolute: '" + e.path + "'");
  if (e.path.size() > format::kMaxPathLength) return Bad("path longer than 4096 bytes");
  if (e.path.find('\0') != std::string::npos) return Bad("path contains a NUL byte");
  if (!IsValidKind(static_cast<std::uint8_t>(e.kind))) return Bad("bad kind for " + e.path);
  return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> BuildDatabase(const DatabaseContents& contents, Signer& signer) {
  namespace f = format;
  // Records in path order (std::string compares bytes as unsigned char, like memcmp).
  std::vector<const FileEntry*> records;
  records.reserve(contents.entries.size());
  for (const auto& e : contents.entries) {
    HASHDB_TRY(CheckEntry(e));
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
  const std::uint64_t records_offset = digests_offset + digests.size() * f::kDigestEntrySize;
  const std::uint64_t strings_offset = records_offset + records.size() * f::kRecordSize;
  const std::vector<std::uint8_t> policy = SerializePolicy(contents.policy);
  const std::uint64_t policy_offset = f::AlignUp(strings_offset + strings_size);
  const std::uint64_t signature_offset = f::AlignUp(policy_offset + policy.size());

  std::vector<std::uint8_t> out(signature_offset, 0);
  std::uint8_t* h = out.data();
  std::memcpy(h + f::off::kMagic, f::kMagic, sizeof(f::kMagic));
  f::StoreU16(h + f::off::kVersion, f::kVersion);
  f::StoreU16(h + f::off::kHeaderSize, f::kHeaderSize);
  f::StoreU64(h + f::off::kGeneration, contents.generation);
  std::int64_t created = contents.created_unix != 0 ? contents.created_unix : std::time(nullptr);
  f::StoreU64(h + f::off::kCreated, static_cast<std::uint64_t>(created));
  const KeyId& signer_id = signer.public_key().id();
  std::memcpy(h + f::off::kSignerKeyId, signer_id.data(), signer_id.size());
  f::StoreU32(h + f::off::kDigestCount, static_cast<std::uint32_t>(digests.size()));
  f::StoreU32(h + f::off::kRecordCount, static_cast<std::uint32_t>(records.size()));
  f::StoreU64(h + f::off::kDigestsOffset, digests_offset);
  f::StoreU64(h + f::off::kRecordsOffset, records_offset);
  f::StoreU64(h + f::off::kStringsOffset, strings_offset);
  f::StoreU64(h + f::off::kStringsSize, strings_size);
  f::StoreU64(h + f::off::kPolicyOffset, policy_offset);
  f::StoreU32(h + f::off::kPolicySize, static_cast<std::uint32_t>(policy.size()));
  f::StoreU16(h + f::off::kSigAlgorithm,
              static_cast<std::uint16_t>(signer.public_key().algorithm()));
  f::StoreU64(h + f::off::kSignatureOffset, signature_offset);

  std::uint8_t* p = out.data() + digests_offset;
  for (const auto& slot : digests) {
    std::memcpy(p, slot.digest.data(), slot.digest.size());
    p[32] = static_cast<std::uint8_t>(slot.kind);
    f::StoreU32(p + 36, slot.first_record);
    p += f::kDigestEntrySize;
  }
  std::uint32_t path_offset = 0;
  std::uint8_t* strings = out.data() + strings_offset;
  for (std::uint32_t i = 0; i < records.size(); ++i) {
    const FileEntry* r = records[i];
    f::StoreU32(p + f::rec::kDigestIndex, record_digest[i]);
    f::StoreU32(p + f::rec::kMode, r->mode);
    f::StoreU32(p + f::rec::kUid, r->uid);
    f::StoreU32(p + f::rec::kGid, r->gid);
    f::StoreU64(p + f::rec::kSize, r->size);
    f::StoreU32(p + f::rec::kPathOffset, path_offset);
    f::StoreU32(p + f::rec::kPathLength, static_cast<std::uint32_t>(r->path.size()));
    std::memcpy(strings + path_offset, r->path.data(), r->path.size());
    path_offset += static_cast<std::uint32_t>(r->path.size());
    p += f::kRecordSize;
  }
  std::memcpy(out.data() + policy_offset, policy.data(), policy.size());

  auto message = f::SignedMessage(out, std::max(1u, std::thread::hardware_concurrency()));
  auto signature = signer.Sign(message);
  if (!signature) return signature.error().Wrap("signing the database");
  if (signature->empty() || signature->size() > f::kMaxSignatureSize) {
    return MakeError(ErrorCode::kCrypto, "signer returned a signature of bad size");
  }
  std::size_t at = out.size();
  out.resize(at + 4 + signature->size());
  f::StoreU32(out.data() + at, static_cast<std::uint32_t>(signature->size()));
  std::memcpy(out.data() + at + 4, signature->data(), signature->size());
  return out;
}

}  // namespace hashdb
