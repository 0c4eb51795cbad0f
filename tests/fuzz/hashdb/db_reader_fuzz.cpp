// Fuzz target for the database reader. Runs every input twice: against a trust store (the path
// lockd takes; almost every mutation stops at the signature) and without one (structural checks
// only, which reaches the deep parsing of tables, records and policy). On success it reads every
// record and looks every digest up, which must stay inside the buffer.
#include <cstddef>
#include <cstdint>

#include "hashdb/database.h"
#include "tests/fuzz/fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hashdb::TrustStore trust = fuzzkeys::Trust();
  std::span<const std::uint8_t> bytes(data, size);
  for (bool verify : {true, false}) {
    auto db = verify ? hashdb::Database::FromBytes(bytes, "fuzz", trust)
                     : hashdb::Database::FromBytesUnverified(bytes, "fuzz");
    if (!db.ok()) continue;
    const hashdb::Database& d = **db;
    std::size_t sum = 0;
    for (std::uint32_t i = 0; i < d.record_count(); ++i) {
      auto r = d.RecordAt(i);
      sum += r.path.size() + r.size;
      auto hit = d.Lookup(*r.digest);
      if (!hit.has_value()) __builtin_trap();  // every record's digest must be found
      if (d.FindPath(r.path) != i) __builtin_trap();
    }
    (void)sum;
  }
  return 0;
}
