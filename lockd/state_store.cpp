#include "lockd/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "hashdb/atomic_file.h"

namespace lockd {

hashdb::Result<std::uint64_t> StateStore::HighestGeneration() const {
  const std::string path = GenerationPath();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::uint64_t{0};
    return hashdb::ErrnoError(path);
  }
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  const int err = errno;
  ::close(fd);
  if (n < 0) return hashdb::ErrnoError(path, err);
  std::string_view text(buf, static_cast<std::size_t>(n));
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::uint64_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return hashdb::MakeError(hashdb::ErrorCode::kFormat,
                             path + ": expected one decimal generation number");
  }
  return value;
}

hashdb::Status StateStore::SetHighestGeneration(std::uint64_t generation) const {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    return hashdb::ErrnoError("mkdir " + dir_);
  }
  const std::string text = std::to_string(generation) + "\n";
  auto status = hashdb::WriteFileAtomically(
      GenerationPath(),
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                    text.size()),
      0600);
  if (!status.ok()) return status.error().Wrap(GenerationPath());
  return {};
}

}  // namespace lockd
