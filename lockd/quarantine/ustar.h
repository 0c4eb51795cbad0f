#pragma once
// The pieces of a POSIX ustar archive (IEEE Std 1003.1-2001) that the quarantine archive
// (quarantine.h) is streamed from: a member's 512-byte header, the zero padding after its
// content, and the two zero blocks that end the archive. Pure: no I/O. `tar` and the export
// bundle's reader (tools/export/tar.h) read what these produce.
//
// Only regular-file members ('0'), uid/gid 0 with no owner names, names of at most 100 bytes
// from [A-Za-z0-9._-] (the quarantine's member names are fixed), sizes below 8 GiB.

#include <cstdint>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockd::quarantine {

inline constexpr std::size_t kTarBlock = 512;
// Largest member size the 11-digit octal size field holds.
inline constexpr std::uint64_t kMaxTarMemberSize = (1ull << 33) - 1;

// The header block for a regular file. mode: permission bits only (e.g. 0400), never with an
// execute bit (refused, kInvalidArgument, as are bad names, sizes and negative mtimes).
hashdb::Result<std::string> UstarFileHeader(std::string_view name, std::uint64_t size,
                                            unsigned mode, std::int64_t mtime);

// Zero bytes that pad a member of this size to a whole block ("" when already whole).
std::string TarPadding(std::uint64_t size);

// The end of an archive: two zero blocks.
std::string TarEnd();

}  // namespace lockd::quarantine
