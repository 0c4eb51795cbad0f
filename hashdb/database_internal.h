#pragma once
// Shared by the reader's files (hashdb/database*.cpp); not part of the library's interface.

#include <cstdint>
#include <cstring>

namespace hashdb::internal {

// A database larger than this is refused before mapping: 1 million entries take ~55 MiB in
// version 2 (~113 MiB in version 1), and a terminal has far fewer; the cap bounds what a
// hostile file can make us map and hash.
inline constexpr std::uint64_t kMaxFileSize = 2ull << 30;

// Bytewise (memcmp) order of two 32-byte digests, as four big-endian 64-bit words: inlined, no
// call into libc, and one comparison settles almost every pair.
inline int CompareDigest(const std::uint8_t* a, const std::uint8_t* b) {
  for (int w = 0; w < 4; ++w) {
    std::uint64_t x;
    std::uint64_t y;
    std::memcpy(&x, a + 8 * w, 8);
    std::memcpy(&y, b + 8 * w, 8);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
  return 0;
}

}  // namespace hashdb::internal
