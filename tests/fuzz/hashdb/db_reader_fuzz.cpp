// Fuzz target for the database reader (format versions 1 and 2). Runs every input twice:
// against a trust store (the path lockd takes; almost every mutation stops at the signature)
// and without one (structural checks only, which reaches the deep parsing of tables, records
// and policy). On success it walks every record with a cursor and cross-checks what a reader
// can ask: each record's digest is found with the same kind and interpreter flag, each path is
// found at its index, random access agrees with the walk. None of it may leave the buffer.
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
    hashdb::RecordCursor cursor(d);
    std::uint32_t i = 0;
    std::string previous;
    while (cursor.Next()) {
      const hashdb::RecordView& r = cursor.record();
      if (cursor.index() != i) __builtin_trap();
      if (i > 0 && !(previous < r.path)) __builtin_trap();  // strictly increasing paths
      sum += r.path.size() + r.size;
      auto hit = d.Lookup(*r.digest);
      if (!hit.has_value()) __builtin_trap();  // every record's digest must be found
      if (hit->kind != r.kind || hit->interpreter != r.interpreter) __builtin_trap();
      if (d.FindPath(r.path) != i) __builtin_trap();
      if (i % 7 == 0 && d.RecordAt(i).path != r.path) __builtin_trap();
      previous = r.path;
      ++i;
    }
    if (i != d.record_count()) __builtin_trap();
    if (d.digest_count() > 0 && d.FirstRecordOf(0).digest_index != 0) __builtin_trap();
    (void)sum;
  }
  return 0;
}
