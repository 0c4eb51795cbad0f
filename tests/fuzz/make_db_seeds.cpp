// Writes the seed corpus for db_reader_fuzz: small valid databases signed by fuzz_key.pem.
// Usage: make_db_seeds KEY.pem OUTDIR   (run by hand when the format changes)
#include <fstream>
#include <iostream>

#include "hashdb/sha256.h"
#include "hashdb/writer.h"

namespace {
hashdb::FileEntry Entry(const std::string& path, const std::string& content, hashdb::Kind kind) {
  hashdb::FileEntry e;
  e.path = path;
  e.digest = hashdb::Sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
  e.kind = kind;
  e.size = content.size();
  e.mode = 0100755;
  return e;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_db_seeds KEY.pem OUTDIR\n";
    return 2;
  }
  auto key = hashdb::PrivateKey::FromPemFile(argv[1]);
  if (!key.ok()) {
    std::cerr << key.error().message << "\n";
    return 2;
  }
  std::vector<hashdb::DatabaseContents> seeds(3);
  seeds[1].entries.push_back(Entry("/bin/true", "t", hashdb::Kind::kElfExecutable));
  seeds[1].policy.mode = hashdb::Mode::kAudit;
  for (int i = 0; i < 6; ++i) {
    seeds[2].entries.push_back(Entry("/usr/lib/x" + std::to_string(i), std::to_string(i % 4),
                                     static_cast<hashdb::Kind>(1 + i % 4)));
  }
  seeds[2].entries.push_back(Entry(std::string("/odd\n\xff"), "odd", hashdb::Kind::kScript));
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    seeds[i].generation = i + 1;
    seeds[i].created_unix = 1700000000;
    auto bytes = hashdb::BuildDatabase(seeds[i], **key);
    if (!bytes.ok()) return 1;
    std::ofstream(std::string(argv[2]) + "/seed" + std::to_string(i) + ".lockdb", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
  }
  return 0;
}
