#pragma once
// Atomic replacement of a file's content: readers see either the old file or the whole new one,
// never a half-written one, even across a crash or power loss. Used to install databases and
// to write keys.

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "hashdb/result.h"

namespace hashdb {

enum class Replace : std::uint8_t {
  kAllow,   // an existing file at path is replaced
  kRefuse,  // fail with kConflict if path exists (nothing is written; for keys)
};

// Writes bytes to a new temporary file in path's directory (created with O_EXCL, O_CLOEXEC and
// mode 0600, then fchmod'ed to mode), writes all of it, fsyncs it, renames it over path and
// fsyncs the directory. On any failure before the rename the temporary file is removed and the
// old file at path is untouched. If only the final directory fsync fails, the new content is
// in place but its durability is not guaranteed; that is reported as an error too.
// The temporary file is owned by the calling user; a symlink at path is replaced, not followed.
Status WriteFileAtomically(const std::string& path, std::span<const std::uint8_t> bytes,
                           mode_t mode, Replace replace = Replace::kAllow);

}  // namespace hashdb
