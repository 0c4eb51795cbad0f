// Read+hash throughput of one file, by read strategy (not a test; run by hand):
//   build/tests/bench/hash_bench FILE [ROUNDS]
// Hashes FILE (which should be in the page cache: a tmpfs, or read once before) with each
// strategy in turn, ROUNDS times, strategies interleaved within a round so that they share the
// machine's state, and prints the median and best GB/s of each. "memory" hashes an in-memory
// copy of the first 16 KiB over and over (what `openssl speed -evp sha256 -bytes 16384`
// measures), the core's raw SHA-256 rate; "Sha256File" is the library routine lockd uses.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hashdb/sha256.h"

namespace {

using Clock = std::chrono::steady_clock;

void Hash(EVP_MD_CTX* ctx, const void* p, std::size_t n) { EVP_DigestUpdate(ctx, p, n); }

EVP_MD_CTX* Begin() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  return ctx;
}

void End(EVP_MD_CTX* ctx) {
  unsigned char out[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
}

void Pread(int fd, std::size_t chunk, int advice) {
  if (advice >= 0) (void)::posix_fadvise(fd, 0, 0, advice);
  static std::vector<unsigned char> buf;
  buf.resize(chunk);
  EVP_MD_CTX* ctx = Begin();
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), chunk, off);
    if (n <= 0) break;
    Hash(ctx, buf.data(), static_cast<std::size_t>(n));
    off += n;
  }
  End(ctx);
}

void Mmap(int fd, std::size_t size, int flags, int madvice, std::size_t step) {
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | flags, fd, 0);
  if (p == MAP_FAILED) std::abort();
  if (madvice >= 0) (void)::madvise(p, size, madvice);
  EVP_MD_CTX* ctx = Begin();
  for (std::size_t off = 0; off < size; off += step) {
    Hash(ctx, static_cast<const char*>(p) + off, std::min(step, size - off));
  }
  End(ctx);
  ::munmap(p, size);
}

// Two threads: one preads chunk k+1 while the other hashes chunk k.
void Pipelined(int fd, std::size_t chunk) {
  static std::vector<unsigned char> bufs[2] = {std::vector<unsigned char>(chunk),
                                               std::vector<unsigned char>(chunk)};
  std::mutex mu;
  std::condition_variable cv;
  ssize_t filled[2] = {-1, -1};  // -1: free
  std::thread reader([&] {
    off_t off = 0;
    for (int k = 0;; k ^= 1) {
      {
        std::unique_lock l(mu);
        cv.wait(l, [&] { return filled[k] < 0; });
      }
      ssize_t n = ::pread(fd, bufs[k].data(), chunk, off);
      if (n < 0) n = 0;
      off += n;
      {
        std::lock_guard l(mu);
        filled[k] = n;
      }
      cv.notify_all();
      if (n == 0) return;
    }
  });
  EVP_MD_CTX* ctx = Begin();
  for (int k = 0;; k ^= 1) {
    ssize_t n;
    {
      std::unique_lock l(mu);
      cv.wait(l, [&] { return filled[k] >= 0; });
      n = filled[k];
    }
    if (n == 0) break;
    Hash(ctx, bufs[k].data(), static_cast<std::size_t>(n));
    {
      std::lock_guard l(mu);
      filled[k] = -1;
    }
    cv.notify_all();
  }
  reader.join();
  End(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [ROUNDS]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 9;
  const int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  std::vector<unsigned char> block(16384, 7);
  struct Strategy {
    std::string name;
    std::function<void()> run;
  };
  std::vector<Strategy> s = {
      {"memory (16 KiB block, openssl speed)",
       [&] {
         EVP_MD_CTX* ctx = Begin();
         for (std::size_t off = 0; off < size; off += block.size()) {
           Hash(ctx, block.data(), block.size());
         }
         End(ctx);
       }},
      {"memory (whole file in an anonymous buffer)",
       [&] {
         static std::vector<unsigned char> whole;
         if (whole.size() != size) {
           whole.resize(size);
           (void)::pread(fd, whole.data(), size, 0);
         }
         EVP_MD_CTX* ctx = Begin();
         for (std::size_t off = 0; off < size; off += 1 << 20) {
           Hash(ctx, whole.data() + off, std::min<std::size_t>(1 << 20, size - off));
         }
         End(ctx);
       }},
      {"pread 256 KiB, no hash (copy alone)",
       [&] {
         static std::vector<unsigned char> buf(256 << 10);
         for (off_t off = 0;;) {
           ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
           if (n <= 0) break;
           off += n;
         }
       }},
      {"Sha256File (library)", [&] { (void)hashdb::Sha256File(fd, st.st_size); }},
      {"pread 64 KiB", [&] { Pread(fd, 64 << 10, -1); }},
      {"pread 256 KiB", [&] { Pread(fd, 256 << 10, -1); }},
      {"pread 1 MiB", [&] { Pread(fd, 1 << 20, -1); }},
      {"pread 4 MiB", [&] { Pread(fd, 4 << 20, -1); }},
      {"pread 256 KiB + FADV_SEQUENTIAL", [&] { Pread(fd, 256 << 10, POSIX_FADV_SEQUENTIAL); }},
      {"pread 256 KiB + FADV_WILLNEED", [&] { Pread(fd, 256 << 10, POSIX_FADV_WILLNEED); }},
      {"pipelined pread 1 MiB (2 threads)", [&] { Pipelined(fd, 1 << 20); }},
      {"mmap", [&] { Mmap(fd, size, 0, -1, 1 << 20); }},
      {"mmap + MADV_SEQUENTIAL", [&] { Mmap(fd, size, 0, MADV_SEQUENTIAL, 1 << 20); }},
      {"mmap + MADV_WILLNEED", [&] { Mmap(fd, size, 0, MADV_WILLNEED, 1 << 20); }},
      {"mmap + MAP_POPULATE", [&] { Mmap(fd, size, MAP_POPULATE, -1, 1 << 20); }},
  };
  std::vector<std::vector<double>> gbs(s.size());
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto t0 = Clock::now();
      s[i].run();
      const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
      gbs[i].push_back(static_cast<double>(size) / sec / 1e9);
    }
  }
  const double mem = [&] {
    auto v = gbs[0];
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }();
  std::printf("%-40s %10s %10s %8s\n", "strategy", "median", "best", "of mem");
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto v = gbs[i];
    std::sort(v.begin(), v.end());
    const double med = v[v.size() / 2];
    std::printf("%-40s %7.3f GB/s %7.3f GB/s %7.1f%%\n", s[i].name.c_str(), med, v.back(),
                100.0 * med / mem);
  }
  return 0;
}
