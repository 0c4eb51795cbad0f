#pragma once
// On-disk layout of the allowlist database, format versions 1 and 2. Documented byte by byte in
// docs/database-format.md; any change here must follow the version rule written there.
// All integers are little-endian.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "hashdb/digest.h"

namespace hashdb::format {

inline constexpr std::uint8_t kMagic[8] = {'L', 'O', 'C', 'K', 'D', 'B', '\r', '\n'};
inline constexpr std::uint16_t kVersion1 = 1;
inline constexpr std::uint16_t kVersion2 = 2;
// What writers write unless told otherwise.
inline constexpr std::uint16_t kCurrentVersion = kVersion2;
inline constexpr std::size_t kHeaderSize = 128;
inline constexpr std::size_t kAlignment = 8;
inline constexpr std::size_t kMaxSignatureSize = 256;
inline constexpr std::uint32_t kMaxPathLength = 4096;  // PATH_MAX, including no NUL
// Signed message: "lockdb-signed-v1" || u64 length || SHA-256 of each kChunkSize chunk. The
// same in both versions (the version field is among the signed bytes).
inline constexpr std::size_t kChunkSize = 1 << 20;
inline constexpr char kSignedMessageTag[16] = {'l', 'o', 'c', 'k', 'd', 'b', '-', 's',
                                               'i', 'g', 'n', 'e', 'd', '-', 'v', '1'};

// Header fields common to both versions.
namespace off {
inline constexpr std::size_t kMagic = 0;
inline constexpr std::size_t kVersion = 8;       // u16
inline constexpr std::size_t kHeaderSize = 10;   // u16
inline constexpr std::size_t kFlags = 12;        // u32, must be 0
inline constexpr std::size_t kGeneration = 16;   // u64
inline constexpr std::size_t kCreated = 24;      // i64 unix seconds
inline constexpr std::size_t kSignerKeyId = 32;  // 32 bytes
inline constexpr std::size_t kDigestCount = 64;  // u32
inline constexpr std::size_t kRecordCount = 68;  // u32
}  // namespace off

namespace v1 {
inline constexpr std::size_t kDigestEntrySize = 40;  // digest[32] kind[1] zero[3] record[4]
inline constexpr std::size_t kRecordSize = 32;
// Header field offsets of version 1 (after the common ones).
namespace off {
inline constexpr std::size_t kDigestsOffset = 72;     // u64
inline constexpr std::size_t kRecordsOffset = 80;     // u64
inline constexpr std::size_t kStringsOffset = 88;     // u64
inline constexpr std::size_t kStringsSize = 96;       // u64
inline constexpr std::size_t kPolicyOffset = 104;     // u64
inline constexpr std::size_t kPolicySize = 112;       // u32
inline constexpr std::size_t kSigAlgorithm = 116;     // u16
inline constexpr std::size_t kReserved = 118;         // u16, must be 0
inline constexpr std::size_t kSignatureOffset = 120;  // u64
}  // namespace off
// Record field offsets (within a 32-byte record).
namespace rec {
inline constexpr std::size_t kDigestIndex = 0;  // u32
inline constexpr std::size_t kMode = 4;         // u32
inline constexpr std::size_t kUid = 8;          // u32
inline constexpr std::size_t kGid = 12;         // u32
inline constexpr std::size_t kSize = 16;        // u64
inline constexpr std::size_t kPathOffset = 24;  // u32, relative to the strings section
inline constexpr std::size_t kPathLength = 28;  // u32
}  // namespace rec
}  // namespace v1

namespace v2 {
inline constexpr std::size_t kDigestEntrySize = 32;  // the digest alone; its class is apart
// Digest class byte: kind in the low four bits, flags above; unknown flags are rejected.
inline constexpr std::uint8_t kClassKindMask = 0x0f;
inline constexpr std::uint8_t kClassInterpreter = 0x80;
inline constexpr std::uint8_t kClassKnownBits = kClassKindMask | kClassInterpreter;
inline constexpr std::size_t kAttributeSize = 12;  // mode u32, uid u32, gid u32
// Records are coded in blocks of this many; the block index holds where each block starts,
// and the first record of a block names its directory, so any block decodes on its own.
inline constexpr std::uint32_t kRecordsPerBlock = 64;
inline constexpr std::uint32_t kMaxNameLength = 255;  // NAME_MAX
namespace off {
inline constexpr std::size_t kDirectoryCount = 72;      // u32
inline constexpr std::size_t kAttributeCount = 76;      // u32
inline constexpr std::size_t kDirectoryNamesSize = 80;  // u64
inline constexpr std::size_t kRecordBytes = 88;         // u64
inline constexpr std::size_t kPolicySize = 96;          // u32
inline constexpr std::size_t kSigAlgorithm = 100;       // u16
inline constexpr std::size_t kReserved = 102;           // u16, must be 0
inline constexpr std::size_t kSignatureOffset = 104;    // u64
inline constexpr std::size_t kReservedTail = 112;       // 16 bytes, must be 0
}  // namespace off

// Where each section of a version-2 file starts: a pure function of the counts and sizes in
// the header (the layout is canonical, so no offset is stored but the signature's).
struct Layout {
  std::uint64_t digests = 0;            // digest_count x 32
  std::uint64_t classes = 0;            // digest_count x 1
  std::uint64_t directory_offsets = 0;  // (directory_count + 1) x u32
  std::uint64_t directory_names = 0;    // directory_names_size bytes
  std::uint64_t attributes = 0;         // attribute_count x 12
  std::uint64_t block_index = 0;        // BlockCount(record_count) x u32
  std::uint64_t records = 0;            // record_bytes bytes
  std::uint64_t policy = 0;             // policy_size bytes
  std::uint64_t signature = 0;          // u32 length, signature; the file ends after it
};
inline constexpr std::uint64_t BlockCount(std::uint64_t record_count) {
  return (record_count + kRecordsPerBlock - 1) / kRecordsPerBlock;
}
// nullopt when a size is too large for any file this reader accepts (no overflow possible).
std::optional<Layout> ComputeLayout(std::uint64_t digest_count, std::uint64_t record_count,
                                    std::uint64_t directory_count, std::uint64_t attribute_count,
                                    std::uint64_t directory_names_size, std::uint64_t record_bytes,
                                    std::uint64_t policy_size);
}  // namespace v2

inline constexpr std::uint64_t AlignUp(std::uint64_t v) {
  return (v + kAlignment - 1) & ~static_cast<std::uint64_t>(kAlignment - 1);
}

inline std::uint16_t LoadU16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t LoadU32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline std::uint64_t LoadU64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(LoadU32(p)) |
         (static_cast<std::uint64_t>(LoadU32(p + 4)) << 32);
}
inline void StoreU16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void StoreU32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void StoreU64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The signed message for `data` (everything before the signature). Chunks are hashed on up to
// `threads` threads; the result does not depend on it.
std::vector<std::uint8_t> SignedMessage(std::span<const std::uint8_t> data, unsigned threads);
// The same message in pieces, for a reader that hashes chunks among other work:
// SignedMessageShell sizes the message for `length` signed bytes and fills in everything but
// the chunk digests; HashChunk fills in chunk `chunk` (0 <= chunk < ChunkCount(length)).
std::size_t ChunkCount(std::uint64_t length);
std::vector<std::uint8_t> SignedMessageShell(std::uint64_t length);
void HashChunk(std::span<const std::uint8_t> data, std::size_t chunk,
               std::vector<std::uint8_t>& message);

}  // namespace hashdb::format
