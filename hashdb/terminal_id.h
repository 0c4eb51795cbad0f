#pragma once
// The terminal id: a stable, random name for this terminal that every challenge carries, so an
// authorization signed for one terminal is refused by every other. Kept in a file (default
// /var/lib/lockd/terminal-id) created on first use from 16 random bytes: unlike
// /etc/machine-id it is not copied when a golden image is cloned without reset, because
// images are built without it.

#include <string>

#include "hashdb/result.h"

namespace hashdb {

inline constexpr const char* kDefaultTerminalIdPath = "/var/lib/lockd/terminal-id";

// Reads the id (32 lower-case hex digits and a newline) from path, or creates the file (0644,
// written to a temporary file, fsynced and linked into place so two racing callers agree on
// one id). A file that exists but does not hold an id is an error, never overwritten: a changed
// id would invalidate authorizations silently.
Result<std::string> LoadOrCreateTerminalId(const std::string& path = kDefaultTerminalIdPath);

// Reads an existing id; kNotFound if the file does not exist.
Result<std::string> LoadTerminalId(const std::string& path = kDefaultTerminalIdPath);

}  // namespace hashdb
