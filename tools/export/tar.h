#pragma once
// A small POSIX ustar (IEEE Std 1003.1-2001 "ustar" interchange format) writer and reader for
// export bundles, so `lockctl export --out FILE.tar` needs no tar program and
// `lockctl export verify` reads exactly what was written. Only regular files and directories,
// names up to 100 bytes (the bundle's names are short and fixed), sizes up to 8 GiB - 1.
//
// Determinism: members in the order given, mode 0644 / 0755, uid/gid 0, no owner names and
// the one mtime passed in, so the same files give the same archive bytes.
//
// The reader is strict because the archive comes from outside: every header checksum, octal
// field, name (relative, no "..", no empty or "." component, no duplicates) and type is
// checked; anything else (links, devices, GNU/PAX extensions) is refused with the member's
// place named. A refused archive is a format error, never partly read.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockctl::exporttool {

// Largest member the reader accepts (bounds memory: the bundle is read whole).
inline constexpr std::uint64_t kMaxTarMember = 2ull << 30;

// The archive bytes for files (name -> content; written in map order, i.e. sorted by name),
// with a directory entry before the first file of each directory. Fails (kInvalidArgument) on
// a name the format cannot hold.
hashdb::Result<std::string> WriteTar(const std::map<std::string, std::string>& files,
                                     std::int64_t mtime);

// The regular files of an archive (directories are accepted and dropped). source_name is used
// in messages.
hashdb::Result<std::map<std::string, std::string>> ReadTar(std::string_view archive,
                                                           const std::string& source_name);

// True for a bundle member name: relative, components of [A-Za-z0-9._-] not "." or "..",
// separated by single '/', at most 100 bytes.
bool IsSafeMemberName(std::string_view name);

}  // namespace lockctl::exporttool
