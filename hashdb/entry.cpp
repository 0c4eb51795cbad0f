#include "hashdb/entry.h"

namespace hashdb {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kElfExecutable:
      return "elf-exec";
    case Kind::kElfSharedObject:
      return "elf-so";
    case Kind::kScript:
      return "script";
    case Kind::kOtherExecutable:
      return "other-exec";
  }
  return "unknown";
}

}  // namespace hashdb
