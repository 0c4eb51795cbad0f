#pragma once
// Reading a small file (a key, a descriptor, a challenge, a config) whole, with a size cap so
// that a hostile or mistaken path (a device, a huge file) cannot make us read without bound.

#include <cstddef>
#include <string>

#include "hashdb/result.h"

namespace hashdb {

// Reads all of fd. `name` is used in messages; fails with kFormat once more than `limit` bytes
// have been read.
Result<std::string> ReadSmallFd(int fd, const std::string& name, std::size_t limit);

// Opens path (O_RDONLY|O_CLOEXEC) and reads it whole. A missing file is kNotFound; messages
// name the path ("open PATH: No such file or directory", "PATH: larger than N bytes").
Result<std::string> ReadSmallFile(const std::string& path, std::size_t limit);

}  // namespace hashdb
