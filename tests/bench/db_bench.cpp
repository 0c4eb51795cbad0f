// Database benchmark: builds a database of N entries (default 1,000,000) in format version 2
// (what lockctl writes) and, from the same entries, in version 1 (what it wrote before), then
// measures for each:
//   - file size,
//   - open + full verification of the file (mmap, every structural check, signature): what
//     `lockctl db ...` does — median of runs,
//   - lockd's load path: a sealed memfd copy of the file (lockd/os/sealed_copy.h), then open +
//     full verification of that copy — median of runs, with the copy alone reported too,
//   - lookups per second on one core (random digests, half present, half absent).
// Usage: db_bench [N] [runs]
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "hashdb/atomic_file.h"
#include "hashdb/database.h"
#include "hashdb/writer.h"
#include "lockd/os/sealed_copy.h"

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
// CPU time of the whole process (every thread), user + system, in ms.
double CpuMs() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

struct Figures {
  std::size_t bytes = 0;
  double build_ms = 0;
  std::vector<double> open_ms;
  std::vector<double> open_cpu_ms;  // CPU of all threads during open+verify
  std::vector<double> copy_ms;
  std::vector<double> load_ms;  // copy + open of the copy
  std::vector<double> lookups_per_s;
};

int Measure(std::uint16_t version, const hashdb::DatabaseContents& base, hashdb::PrivateKey& key,
            const std::vector<hashdb::Digest>& queries, int runs, Figures& out) {
  hashdb::DatabaseContents contents = base;
  contents.format_version = version;
  auto t0 = Clock::now();
  auto bytes = hashdb::BuildDatabase(contents, key);
  out.build_ms = Ms(Clock::now() - t0);
  if (!bytes.ok()) {
    std::fprintf(stderr, "build v%u: %s\n", version, bytes.error().message.c_str());
    return 1;
  }
  out.bytes = bytes->size();
  char path[] = "/tmp/lockd-db-bench-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  if (auto w = hashdb::WriteFileAtomically(path, *bytes, 0600); !w.ok()) {
    std::fprintf(stderr, "write: %s\n", w.error().message.c_str());
    return 1;
  }
  auto trust = hashdb::TrustStore::FromKeys({key.public_key()});
  std::shared_ptr<const hashdb::Database> db;
  // Alternate the two paths within each run so that both see the same machine state.
  for (int r = 0; r < runs; ++r) {
    const double cpu = CpuMs();
    auto t = Clock::now();
    auto opened = hashdb::Database::Open(path, trust);
    out.open_ms.push_back(Ms(Clock::now() - t));
    out.open_cpu_ms.push_back(CpuMs() - cpu);
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
      return 1;
    }
    db = *opened;
    t = Clock::now();
    auto copy = lockd::os::SealedCopy(path);
    const auto copied = Clock::now();
    if (!copy.ok()) {
      std::fprintf(stderr, "sealed copy: %s\n", copy.error().message.c_str());
      return 1;
    }
    auto loaded = hashdb::Database::OpenFd(copy->get(), path, trust);
    out.copy_ms.push_back(Ms(copied - t));
    out.load_ms.push_back(Ms(Clock::now() - t));
    if (!loaded.ok()) {
      std::fprintf(stderr, "load: %s\n", loaded.error().message.c_str());
      return 1;
    }
  }
  if (getenv("KEEP") == nullptr) {
    ::unlink(path);
  } else {
    std::printf("kept %s\n", path);
  }
  std::size_t hits = 0;
  for (int r = 0; r < runs; ++r) {
    hits = 0;
    auto t = Clock::now();
    for (const auto& d : queries) hits += db->Lookup(d).has_value() ? 1 : 0;
    out.lookups_per_s.push_back(static_cast<double>(queries.size()) /
                                (Ms(Clock::now() - t) / 1000.0));
  }
  return hits == queries.size() / 2 ? 0 : 1;
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
    // Paths shaped like a distribution's: a few levels, ~45 bytes on average, 100 per directory.
    e.path = "/usr/lib/x86_64-linux-gnu/pkg" + std::to_string(i / 100) + "/file" +
             std::to_string(i) + ".so";
    e.digest = random_digest();
    e.kind = hashdb::Kind::kElfSharedObject;
    e.size = 4096 + i;
    e.mode = 0100644;
    contents.entries.push_back(std::move(e));
  }
  // Lookups: 4M queries, alternating a present digest and a random (absent) one.
  const std::size_t queries = 4000000;
  std::vector<hashdb::Digest> q(queries);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  for (std::size_t i = 0; i < queries; ++i) {
    q[i] = (i % 2 == 0) ? contents.entries[pick(rng)].digest : random_digest();
  }
  auto key = hashdb::PrivateKey::Generate(hashdb::SignatureAlgorithm::kEcdsaP256Sha256);
  Figures v2;
  Figures v1;
  if (Measure(2, contents, **key, q, runs, v2) != 0) return 1;
  if (Measure(1, contents, **key, q, runs, v1) != 0) return 1;

  std::printf("entries            %zu, %d runs each, warm page cache, medians (min)\n", n, runs);
  std::printf("%-34s %18s %18s\n", "", "version 2", "version 1");
  std::printf("%-34s %11.1f MiB     %11.1f MiB\n", "file size", v2.bytes / 1048576.0,
              v1.bytes / 1048576.0);
  std::printf("%-34s %11.0f ms      %11.0f ms\n", "build+sign (in memory)", v2.build_ms,
              v1.build_ms);
  std::printf("%-34s %7.1f (%5.1f) ms  %7.1f (%5.1f) ms\n", "open+verify (file)",
              Median(v2.open_ms), Min(v2.open_ms), Median(v1.open_ms), Min(v1.open_ms));
  std::printf("%-34s %7.1f (%5.1f) ms  %7.1f (%5.1f) ms\n", "  CPU time of it, all threads",
              Median(v2.open_cpu_ms), Min(v2.open_cpu_ms), Median(v1.open_cpu_ms),
              Min(v1.open_cpu_ms));
  std::printf("%-34s %7.1f (%5.1f) ms  %7.1f (%5.1f) ms\n", "lockd load: sealed copy",
              Median(v2.copy_ms), Min(v2.copy_ms), Median(v1.copy_ms), Min(v1.copy_ms));
  std::printf("%-34s %7.1f (%5.1f) ms  %7.1f (%5.1f) ms\n", "lockd load: copy+open+verify",
              Median(v2.load_ms), Min(v2.load_ms), Median(v1.load_ms), Min(v1.load_ms));
  std::printf("%-34s %7.1f M/s         %7.1f M/s\n", "lookups/s (1 core)",
              Median(v2.lookups_per_s) / 1e6, Median(v1.lookups_per_s) / 1e6);
  return 0;
}
