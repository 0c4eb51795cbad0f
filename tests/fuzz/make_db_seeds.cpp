// Writes the version-2 seed corpus for db_reader_fuzz: small valid databases signed by
// fuzz_key.pem, as v2-seedN.lockdb. Usage: make_db_seeds KEY.pem OUTDIR (run by hand when the
// format changes). The version-1 seeds (seed0..2.lockdb) were written by the version-1 writer
// before version 2 existed and are kept as they are: tests/hashdb/database_v1_test.cpp pins
// what the reader says about them.
#include <fstream>
#include <iostream>

#include "hashdb/sha256.h"
#include "hashdb/writer.h"

namespace {
hashdb::FileEntry Entry(const std::string& path, const std::string& content, hashdb::Kind kind,
                        std::uint32_t mode = 0100755, std::uint32_t uid = 0) {
  hashdb::FileEntry e;
  e.path = path;
  e.digest = hashdb::Sha256(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
  e.kind = kind;
  e.size = content.size();
  e.mode = mode;
  e.uid = uid;
  e.gid = uid;
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
  std::vector<hashdb::DatabaseContents> seeds(4);
  // 0: empty. 1: one entry and every policy setting away from its default.
  seeds[1].entries.push_back(Entry("/bin/true", "t", hashdb::Kind::kElfExecutable));
  seeds[1].policy.mode = hashdb::Mode::kAudit;
  seeds[1].policy.watch = {"/opt/app", "/usr"};
  seeds[1].policy.restrict_user_namespaces = false;
  seeds[1].policy.deny_user_writable = false;
  seeds[1].policy.trusted_owners = {1000, 1001};
  seeds[1].policy.interpreters = {"sh", "python3"};
  // 2: several directories, shared name prefixes, odd bytes, interpreters by name and by hand,
  // several owners and modes.
  for (int i = 0; i < 6; ++i) {
    seeds[2].entries.push_back(Entry("/usr/lib/x" + std::to_string(i), std::to_string(i % 4),
                                     static_cast<hashdb::Kind>(1 + i % 4), 0100644 + i, i % 2));
  }
  seeds[2].entries.push_back(Entry(std::string("/odd\n\xff"), "odd", hashdb::Kind::kScript));
  seeds[2].entries.push_back(Entry("/usr/bin/bash", "bash", hashdb::Kind::kElfExecutable));
  seeds[2].entries.push_back(Entry("/usr/bin/bashbug", "bashbug", hashdb::Kind::kScript));
  seeds[2].entries.push_back(Entry("/opt/run", "run", hashdb::Kind::kElfExecutable));
  seeds[2].entries.back().interpreter = true;
  seeds[2].entries.push_back(Entry("/top", "bash", hashdb::Kind::kElfExecutable));
  // 3: more than one record block (64 records each), across directories.
  for (int i = 0; i < 150; ++i) {
    seeds[3].entries.push_back(Entry("/d" + std::to_string(i / 40) + "/file" + std::to_string(i),
                                     "c" + std::to_string(i % 90), hashdb::Kind::kElfSharedObject,
                                     0100644));
  }
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    seeds[i].generation = i + 1;
    seeds[i].created_unix = 1700000000;
    auto bytes = hashdb::BuildDatabase(seeds[i], **key);
    if (!bytes.ok()) {
      std::cerr << bytes.error().message << "\n";
      return 1;
    }
    std::ofstream(std::string(argv[2]) + "/v2-seed" + std::to_string(i) + ".lockdb",
                  std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
  }
  return 0;
}
