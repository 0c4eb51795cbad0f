// Database benchmark: builds a database of N entries (default 1,000,000), then measures
//   - file size,
//   - open + full verification (mmap, every structural check, signature) — median of runs,
//   - lookups per second on one core (random digests, half present, half absent).
// Usage: db_bench [N] [runs]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "hashdb/atomic_file.h"
#include "hashdb/database.h"
#include "hashdb/writer.h"

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 1000000;
  const int runs = argc > 2 ? std::stoi(argv[2]) : 9;
  std::mt19937_64 rng(42);
  auto random_digest = [&] {
    hashdb::Digest d;
    for (std::size_t i = 0; i < d.size(); i += 8) {
      std::uint64_t r = rng();
      for (int b = 0; b < 8; ++b) d[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
    }
    return d;
  };
  hashdb::DatabaseContents contents;
  contents.generation = 1;
  contents.entries.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    hashdb::FileEntry e;
    // Paths shaped like a distribution's: a few levels, ~45 bytes on average.
    e.path = "/usr/lib/x86_64-linux-gnu/pkg" + std::to_string(i / 100) + "/file" +
             std::to_string(i) + ".so";
    e.digest = random_digest();
    e.kind = hashdb::Kind::kElfSharedObject;
    e.size = 4096 + i;
    e.mode = 0100644;
    contents.entries.push_back(std::move(e));
  }
  auto key = hashdb::PrivateKey::Generate(hashdb::SignatureAlgorithm::kEcdsaP256Sha256);
  auto t0 = Clock::now();
  auto bytes = hashdb::BuildDatabase(contents, **key);
  auto build_ms = Ms(Clock::now() - t0);
  if (!bytes.ok()) {
    std::fprintf(stderr, "build: %s\n", bytes.error().message.c_str());
    return 1;
  }
  char path[] = "/tmp/lockd-db-bench-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  if (auto w = hashdb::WriteFileAtomically(path, *bytes, 0600); !w.ok()) {
    std::fprintf(stderr, "write: %s\n", w.error().message.c_str());
    return 1;
  }
  auto trust = hashdb::TrustStore::FromKeys({(*key)->public_key()});

  std::vector<double> open_ms;
  std::shared_ptr<const hashdb::Database> db;
  for (int r = 0; r < runs; ++r) {
    auto t = Clock::now();
    auto opened = hashdb::Database::Open(path, trust);
    open_ms.push_back(Ms(Clock::now() - t));
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
      return 1;
    }
    db = *opened;
  }
  if (!getenv("KEEP"))
    ::unlink(path);
  else
    printf("kept %s\n", path);

  // Lookups: 4M queries, alternating a present digest and a random (absent) one.
  const std::size_t queries = 4000000;
  std::vector<hashdb::Digest> q(queries);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  for (std::size_t i = 0; i < queries; ++i) {
    q[i] = (i % 2 == 0) ? contents.entries[pick(rng)].digest : random_digest();
  }
  std::vector<double> lookups_per_s;
  std::size_t hits = 0;
  for (int r = 0; r < runs; ++r) {
    hits = 0;
    auto t = Clock::now();
    for (const auto& d : q) hits += db->Lookup(d).has_value() ? 1 : 0;
    lookups_per_s.push_back(queries / (Ms(Clock::now() - t) / 1000.0));
  }
  std::printf("entries            %zu\n", n);
  std::printf("file size          %.1f MiB (%zu bytes)\n", bytes->size() / 1048576.0,
              bytes->size());
  std::printf("build+sign         %.0f ms (in memory, from sorted input)\n", build_ms);
  std::printf("open+verify        median %.1f ms, min %.1f ms (%d runs, warm page cache)\n",
              Median(open_ms), *std::min_element(open_ms.begin(), open_ms.end()), runs);
  std::printf("lookups/s (1 core) median %.1f M/s (%zu hits of %zu)\n", Median(lookups_per_s) / 1e6,
              hits, queries);
  return hits == queries / 2 ? 0 : 1;
}
