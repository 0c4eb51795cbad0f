#pragma once
// On-disk layout of the allowlist database, format version 1. Documented byte by byte in
// docs/database-format.md; any change here must follow the version rule written there.
// All integers are little-endian.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hashdb/digest.h"

namespace hashdb::format {

inline constexpr std::uint8_t kMagic[8] = {'L', 'O', 'C', 'K', 'D', 'B', '\r', '\n'};
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 128;
inline constexpr std::size_t kDigestEntrySize = 40;  // digest[32] kind[1] zero[3] record[4]
inline constexpr std::size_t kRecordSize = 32;
inline constexpr std::size_t kAlignment = 8;
inline constexpr std::size_t kMaxSignatureSize = 256;
inline constexpr std::uint32_t kMaxPathLength = 4096;  // PATH_MAX, including no NUL
// Signed message: "lockdb-signed-v1" || u64 length || SHA-256 of each kChunkSize chunk.
inline constexpr std::size_t kChunkSize = 1 << 20;
inline constexpr char kSignedMessageTag[16] = {'l', 'o', 'c', 'k', 'd', 'b', '-', 's',
                                               'i', 'g', 'n', 'e', 'd', '-', 'v', '1'};

// Header field offsets.
namespace off {
inline constexpr std::size_t kMagic = 0;
inline constexpr std::size_t kVersion = 8;            // u16
inline constexpr std::size_t kHeaderSize = 10;        // u16
inline constexpr std::size_t kFlags = 12;             // u32, must be 0
inline constexpr std::size_t kGeneration = 16;        // u64
inline constexpr std::size_t kCreated = 24;           // i64 unix seconds
inline constexpr std::size_t kSignerKeyId = 32;       // 32 bytes
inline constexpr std::size_t kDigestCount = 64;       // u32
inline constexpr std::size_t kRecordCount = 68;       // u32
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

// The message that is signed for the first `length` bytes of `data` (everything before the
// signature). Chunks are hashed on up to `threads` threads; the result does not depend on it.
std::vector<std::uint8_t> SignedMessage(std::span<const std::uint8_t> data, unsigned threads);

}  // namespace hashdb::format
