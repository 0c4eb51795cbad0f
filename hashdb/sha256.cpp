#include "hashdb/sha256.h"

#include <linux/magic.h>
#include <openssl/evp.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

namespace hashdb {

namespace {
// 256 KiB reads: large enough that syscall cost is negligible next to hashing (~0.15 ms of
// SHA-256 per read), small enough to stay in L2 on the machines we run on.
constexpr std::size_t kReadSize = 256 * 1024;

// Files at least this large are read on a second thread while this one hashes
// (tests/bench/hash_bench.cpp, docs/performance.md "Hashing a large file"): the copy out of
// the page cache (about 3.5 GB/s on the reference VM) then overlaps SHA-256 (about 1.7 GB/s)
// instead of adding to it, 66% -> 95% of the core's raw SHA-256 rate for 100 MB. Below it,
// starting the thread costs more than the overlap saves.
constexpr std::int64_t kPipelineBytes = 4 << 20;
constexpr std::size_t kPipelineChunk = 1 << 20;

// One pread, retried on EINTR. Returns the byte count, 0 at the end, -1 with errno.
ssize_t ReadAt(int fd, std::uint8_t* buf, std::size_t n, std::int64_t offset) {
  for (;;) {
    const ssize_t got = ::pread(fd, buf, n, offset);
    if (got >= 0 || errno != EINTR) return got;
  }
}

// The result of reading the file: bytes hashed and whether a read failed (with its errno).
struct ReadTotals {
  std::int64_t bytes = 0;
  int read_errno = 0;
};

// Reads with pread on one thread, hashes on this one; two 1 MiB buffers handed back and forth.
// Reads the same bytes in the same order as the serial loop, stops at the same points (end of
// file, a read error, more than expected_size), so callers see no difference but the time.
// Returns nullopt when the thread cannot be started (the caller reads serially).
std::optional<ReadTotals> HashPipelined(int fd, std::int64_t expected_size, Sha256Hasher& hasher) {
  // The caller's thread keeps its two buffers: a fresh 2 MiB per file costs page faults
  // (measured: 81% instead of 94% of the in-memory rate for 100 MB on the reference VM).
  thread_local std::vector<std::uint8_t> buffers(2 * kPipelineChunk);
  struct Slot {
    std::uint8_t* data;
    ssize_t filled = 0;  // bytes in data; 0 at the end; -1 on a read error
    bool ready = false;  // written by the reader, not yet hashed
  };
  Slot slots[2] = {{buffers.data()}, {buffers.data() + kPipelineChunk}};
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // the hasher is done early: the reader stops too
  int read_errno = 0;
  auto reader = [&] {
    std::int64_t offset = 0;
    for (int k = 0;; k ^= 1) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !slots[k].ready || stop; });
        if (stop) return;
      }
      const ssize_t n = ReadAt(fd, slots[k].data, kPipelineChunk, offset);
      const int err = errno;
      {
        std::lock_guard lock(mu);
        slots[k].filled = n;
        slots[k].ready = true;
        if (n < 0) read_errno = err;
      }
      cv.notify_all();
      if (n <= 0) return;
      offset += n;
      if (offset > expected_size) return;  // the hasher stops at this chunk too
    }
  };
  std::thread thread;
  try {
    thread = std::thread(reader);
  } catch (const std::system_error&) {
    return std::nullopt;
  }
  ReadTotals totals;
  for (int k = 0;; k ^= 1) {
    ssize_t n = 0;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return slots[k].ready; });
      n = slots[k].filled;
    }
    if (n < 0) {
      totals.read_errno = read_errno;
      break;
    }
    if (n == 0) break;
    hasher.Update(std::span<const std::uint8_t>(slots[k].data, static_cast<std::size_t>(n)));
    totals.bytes += n;
    {
      std::lock_guard lock(mu);
      slots[k].ready = false;
    }
    cv.notify_all();
    if (totals.bytes > expected_size) break;
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  thread.join();
  return totals;
}

EVP_MD_CTX* NewCtx() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
  return ctx;
}
}  // namespace

Digest Sha256(std::span<const std::uint8_t> data) {
  Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1) {
    std::abort();  // only fails on allocation failure
  }
  return out;
}

Sha256Hasher::Sha256Hasher() : ctx_(NewCtx()) {}
Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Hasher::Update(std::span<const std::uint8_t> data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Digest Sha256Hasher::Finish() {
  Digest out{};
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  return out;
}

namespace {

// The digest once `offset` bytes were hashed, if that is the whole expected length.
Result<Digest> FinishWhole(Sha256Hasher& hasher, std::int64_t expected_size, std::int64_t offset) {
  if (expected_size >= 0 && offset != expected_size) {
    return MakeError(ErrorCode::kConflict, "file changed size while being hashed (expected " +
                                               std::to_string(expected_size) + " bytes, read " +
                                               std::to_string(offset) + ")");
  }
  return hasher.Finish();
}

}  // namespace

Result<Digest> Sha256File(int fd, std::int64_t expected_size) {
  Sha256Hasher hasher;
  std::int64_t offset = 0;
  std::optional<ReadTotals> pipelined;
  if (expected_size >= kPipelineBytes) pipelined = HashPipelined(fd, expected_size, hasher);
  if (pipelined) {
    if (pipelined->read_errno != 0) return ErrnoError("read", pipelined->read_errno);
    offset = pipelined->bytes;
  } else {
    thread_local std::vector<std::uint8_t> buffer(kReadSize);
    for (;;) {
      const ssize_t n = ReadAt(fd, buffer.data(), buffer.size(), offset);
      if (n < 0) return ErrnoError("read");
      if (n == 0) break;
      hasher.Update(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
      offset += n;
      if (expected_size >= 0 && offset > expected_size) break;
    }
  }
  return FinishWhole(hasher, expected_size, offset);
}

Result<Digest> Sha256FileCached(int fd, std::int64_t expected_size) {
  Sha256Hasher hasher;
  thread_local std::vector<std::uint8_t> buffer(kReadSize);
  std::int64_t offset = 0;
  bool memory_backed = false;  // tmpfs or ramfs: plain pread (no RWF_NOWAIT there)
  for (;;) {
    ssize_t n = 0;
    if (memory_backed) {
      n = ReadAt(fd, buffer.data(), buffer.size(), offset);
    } else {
      iovec iov{buffer.data(), buffer.size()};
      n = ::preadv2(fd, &iov, 1, offset, RWF_NOWAIT);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EOPNOTSUPP && !memory_backed) {
        struct statfs fs {};
        if (::fstatfs(fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)) {
          memory_backed = true;
          continue;
        }
      }
      if (errno == EAGAIN || errno == EOPNOTSUPP) {
        return Error{ErrorCode::kUnsupported, "content not in the page cache", EAGAIN};
      }
      return ErrnoError("read");
    }
    if (n == 0) break;
    hasher.Update(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
    offset += n;
    if (expected_size >= 0 && offset > expected_size) break;
  }
  return FinishWhole(hasher, expected_size, offset);
}

}  // namespace hashdb
