#pragma once
// SHA-256 through OpenSSL's EVP interface (uses SHA-NI where the CPU has it).

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "hashdb/digest.h"
#include "hashdb/result.h"

namespace hashdb {

Digest Sha256(std::span<const std::uint8_t> data);

// Hashes the whole content of an open regular file from offset 0 with pread (the fd's own
// offset is left alone, so the caller may share it). Reads through the descriptor it is given
// and never re-opens by path. Fails with kIo on a read error, and with kConflict when the
// number of bytes read differs from expected_size (the file changed length while being read);
// pass expected_size < 0 to accept whatever length is read. From 4 MiB of expected_size on,
// a second thread does the preads while the caller's thread hashes (same bytes, same checks;
// it is joined before the return); if it cannot be started the file is read on this thread.
Result<Digest> Sha256File(int fd, std::int64_t expected_size);

// Like Sha256File, but only from the page cache: every read is preadv2(RWF_NOWAIT), which
// never waits for the disk (or a lock the filesystem would sleep on). When some of the content
// is not cached, or the filesystem cannot read without waiting, it fails with kUnsupported
// (errno_value EAGAIN) having waited for nothing: the caller hashes on a thread that may wait.
// Memory-backed filesystems (tmpfs, ramfs), which refuse RWF_NOWAIT, are read with pread:
// their pages are memory (a page swapped out is the only wait). For small files only (one
// buffer of up to 256 KiB per read).
Result<Digest> Sha256FileCached(int fd, std::int64_t expected_size);

// Incremental hasher for callers that feed chunks themselves. Not thread-safe.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::span<const std::uint8_t> data);
  Digest Finish();  // may be called once; the hasher is then reset for reuse

 private:
  void* ctx_;  // EVP_MD_CTX*
};

}  // namespace hashdb
