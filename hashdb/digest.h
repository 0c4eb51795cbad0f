#pragma once
// Digest: a SHA-256 value, compared and ordered bytewise (the database's sort order).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hashdb {

inline constexpr std::size_t kDigestSize = 32;
using Digest = std::array<std::uint8_t, kDigestSize>;

// Lower-case hex, 64 characters.
std::string ToHex(const Digest& digest);
std::string ToHex(const std::uint8_t* data, std::size_t size);
// Parses 64 hex characters (either case); nullopt on anything else.
std::optional<Digest> DigestFromHex(std::string_view hex);

}  // namespace hashdb
