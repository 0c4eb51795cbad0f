// The export reads repeat records (docs/audit-log.md, "Repeats") as the denials they count:
// blocks.csv has one row per record with its count and span, and the per-file totals add the
// counts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "audit/record.h"
#include "audit/verify.h"
#include "tools/export/audit_facts.h"
#include "tools/export/evidence.h"

using lockd::audit::FormatLine;
using lockd::audit::LineHash;
using lockd::audit::ParseTime;
using lockd::audit::Record;

TEST_CASE("export: a repeat record is a blocks.csv row with its count; totals add the counts") {
  std::vector<Record> records;
  Record deny("deny");
  deny.set_time(*ParseTime("2026-11-27T10:00:00Z"));
  deny.AddBytes("reason", "not-in-allowlist").AddBytes("mode", "enforce").AddInt("pid", 7);
  deny.AddInt("uid", 1000).AddBytes("exe", "/bin/sh").AddBytes("path", "/tmp/worm");
  records.push_back(deny);
  Record repeat("repeat");
  repeat.set_time(*ParseTime("2026-11-27T10:00:10Z"));
  repeat.AddBytes("of", "deny").AddUint("count", 41999);
  repeat.AddBytes("first_time", "2026-11-27T10:00:00.010Z");
  repeat.AddBytes("last_time", "2026-11-27T10:00:10.000Z");
  repeat.AddBytes("reason", "not-in-allowlist").AddBytes("mode", "enforce").AddInt("uid", 1000);
  repeat.AddBytes("path", "/tmp/worm").AddInt("last_pid", 9000).AddBytes("exe", "/bin/sh");
  records.push_back(repeat);
  std::string log;
  std::string prev = lockd::audit::kGenesisPrev;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string line = FormatLine(i + 1, prev, records[i]);
    log += line + "\n";
    prev = LineHash(line);
  }
  const std::vector<lockd::audit::LogInput> files{{"audit.jsonl", log}};
  const auto facts = lockctl::exporttool::ReadAuditFacts(files, std::nullopt);
  REQUIRE(facts.blocks.size() == 2);
  CHECK(facts.blocks[1].repeat);
  CHECK(facts.blocks[1].type == "deny");
  CHECK(facts.blocks[1].count == 41999);
  CHECK(facts.blocks[1].pid == "9000");
  const std::string csv = lockctl::exporttool::BlocksCsv(facts);
  CHECK(csv.find(",record,count,first_time,last_time") != std::string::npos);
  CHECK(csv.find(",deny,1,2026-11-27T10:00:00.000Z,2026-11-27T10:00:00.000Z") != std::string::npos);
  CHECK(csv.find(",repeat,41999,2026-11-27T10:00:00.010Z,2026-11-27T10:00:10.000Z") !=
        std::string::npos);
  const auto top = lockctl::exporttool::TopBlockedFiles(facts, 5);
  REQUIRE(top.size() == 1);
  CHECK(top[0].deny == 42000);
}
