// The fleet report counts denials, not records: a `repeat` record (docs/audit-log.md,
// "Repeats") adds its `count` to the deny or would_deny totals of its terminal and of its
// content, with the span first_time..last_time, read by the export's own reading
// (exporttool::ReadAuditFacts) from real chained log lines.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "audit/record.h"
#include "audit/verify.h"
#include "tools/export/audit_facts.h"
#include "tools/fleet/aggregate.h"
#include "tools/fleet/report_csv.h"
#include "tools/fleet/report_html.h"

using lockctl::exporttool::BlockEvent;
using lockctl::exporttool::BlockTally;
using lockctl::fleet::BundleFacts;
using lockctl::fleet::FleetAggregator;
using lockctl::fleet::FleetReport;
using lockd::audit::ParseTime;
using lockd::audit::Record;

namespace {

constexpr char kWorm[] = "1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kTool[] = "2222222222222222222222222222222222222222222222222222222222222222";

Record Block(const char* type, const char* time, const char* path, const char* sha) {
  Record r(type);
  r.set_time(*ParseTime(time));
  r.AddBytes("reason", "not-in-allowlist").AddBytes("mode", "enforce").AddInt("pid", 7);
  r.AddInt("uid", 1000).AddBytes("exe", "/bin/sh").AddBytes("path", path);
  r.AddBytes("sha256", sha);
  return r;
}

// A repeat record as the daemon writes it (lockd/audit/repeat_aggregator.cpp).
Record Repeat(const char* of, std::uint64_t count, const char* first, const char* last,
              const char* path, const char* sha) {
  Record r("repeat");
  r.set_time(*ParseTime(last));
  r.AddBytes("of", of).AddUint("count", count).AddBytes("first_time", first);
  r.AddBytes("last_time", last).AddBytes("reason", "not-in-allowlist");
  r.AddBytes("mode", "enforce").AddInt("uid", 1000).AddBytes("path", path);
  r.AddBytes("sha256", sha).AddInt("last_pid", 9000).AddBytes("exe", "/bin/sh");
  return r;
}

std::string Log(const std::vector<Record>& records) {
  std::string log;
  std::string prev = lockd::audit::kGenesisPrev;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string line = lockd::audit::FormatLine(i + 1, prev, records[i]);
    log += line + "\n";
    prev = lockd::audit::LineHash(line);
  }
  return log;
}

// A verified bundle of terminal `id` whose audit/ holds `log` (seq 1..records).
BundleFacts Bundle(const std::string& id, const std::string& log, std::uint64_t records,
                   const char* exported_at) {
  BundleFacts b;
  b.source = "/bundles/" + id + "-" + exported_at + ".tar";
  b.terminal_id = id;
  b.hostname = "atm-" + id;
  b.exported_at = exported_at;
  b.chain_records = records;
  b.first_seq = 1;
  b.last_seq = records;
  b.facts = lockctl::exporttool::ReadAuditFacts({{"audit.jsonl", log}}, std::nullopt);
  return b;
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

const std::vector<Record> kFlood = {
    Block("deny", "2026-11-27T10:00:00Z", "/tmp/worm", kWorm),
    Block("would_deny", "2026-11-27T09:00:00Z", "/opt/app/tool", kTool),
    Repeat("deny", 41999, "2026-11-27T10:00:00.010Z", "2026-11-27T10:00:10.000Z", "/tmp/worm",
           kWorm),
    Repeat("would_deny", 4, "2026-11-27T09:00:01.000Z", "2026-11-27T09:00:04.000Z", "/opt/app/tool",
           kTool),
    // A repeat of something that is not a block is not a denial.
    Repeat("db_load", 5, "2026-11-27T11:00:00.000Z", "2026-11-27T11:00:05.000Z", "/x", kTool),
    Repeat("deny", 3, "2026-11-27T12:00:00.000Z", "2026-11-27T12:00:30.000Z", "/tmp/worm", kWorm),
};

}  // namespace

TEST_CASE("block tally: a repeat counts its count, over first_time..last_time") {
  BlockTally t;
  BlockEvent one;
  one.type = "deny";
  one.time = one.first_time = one.last_time = "2026-11-27T10:00:00.000Z";
  t.Add(one);
  BlockEvent rep = one;
  rep.repeat = true;
  rep.count = 41999;
  rep.first_time = "2026-11-27T09:59:00.000Z";  // earlier than the record before it
  rep.time = rep.last_time = "2026-11-27T10:00:10.000Z";
  t.Add(rep);
  BlockEvent empty = rep;
  empty.type = "would_deny";
  empty.count = 0;  // a repeat whose count could not be read: listed, counts nothing
  empty.first_time = "2020-01-01T00:00:00.000Z";
  t.Add(empty);
  CHECK(t.deny == 42000);
  CHECK(t.would_deny == 0);
  CHECK(t.total() == 42000);
  CHECK(t.repeat_records == 2);
  CHECK(t.in_repeats == 41999);
  CHECK(t.first_time == "2026-11-27T09:59:00.000Z");
  CHECK(t.last_time == "2026-11-27T10:00:10.000Z");
}

TEST_CASE("fleet report: repeat records count as the denials they stand for") {
  const std::string log = Log(kFlood);
  FleetAggregator agg;
  agg.AddBundle(Bundle("t1", log, kFlood.size(), "2026-11-28T00:00:00.000Z"));
  const FleetReport r = agg.Finish();
  REQUIRE(r.terminals.size() == 1);
  const auto& t = r.terminals[0];
  CHECK(t.blocks.deny == 1 + 41999 + 3);
  CHECK(t.blocks.would_deny == 1 + 4);
  CHECK(t.blocks.repeat_records == 3);
  CHECK(t.blocks.in_repeats == 41999 + 4 + 3);
  CHECK(t.blocks.first_time == "2026-11-27T09:00:00.000Z");
  CHECK(t.blocks.last_time == "2026-11-27T12:00:30.000Z");
  CHECK(t.blocked_digests == 2);
  REQUIRE(r.blocked.size() == 2);
  CHECK(r.blocked[0].sha256 == kWorm);  // most denials first
  CHECK(r.blocked[0].blocks.deny == 42003);
  CHECK(r.blocked[0].blocks.first_time == "2026-11-27T10:00:00.000Z");
  CHECK(r.blocked[0].blocks.last_time == "2026-11-27T12:00:30.000Z");
  CHECK(r.blocked[1].sha256 == kTool);
  CHECK(r.blocked[1].blocks.would_deny == 5);
  CHECK(r.blocked[1].blocks.last_time == "2026-11-27T09:00:04.000Z");

  const auto csv = lockctl::fleet::RenderFleetCsv(r);
  CHECK(Contains(csv.at("terminals.csv"),
                 ",42003,5,2,2026-11-27T09:00:00.000Z,"
                 "2026-11-27T12:00:30.000Z,"));
  CHECK(Contains(csv.at("blocks_by_terminal.csv"),
                 ",in_repeat_records,repeat_records\r\nt1,atm-t1,42003,5,2,"
                 "2026-11-27T09:00:00.000Z,2026-11-27T12:00:30.000Z,0,42006,3\r\n"));
  CHECK(Contains(csv.at("blocks_by_digest.csv"),
                 std::string(kWorm) + ",42003,0,1,2026-11-27T10:00:00.000Z,"
                                      "2026-11-27T12:00:30.000Z,not-in-allowlist,/tmp/worm,"));
  CHECK(Contains(csv.at("blocks_by_digest.csv"), ",false,42002,2\r\n"));
  CHECK(Contains(csv.at("blocks_by_digest.csv"), ",false,4,1\r\n"));
  const std::string html = lockctl::fleet::RenderFleetHtml(r, {"/trust", "", "now", {"/b"}});
  CHECK(Contains(html, "42003 denied, 5 would-deny"));
  CHECK(Contains(html, "42006 of these denials are counted in 3 repeat record(s)"));
}

TEST_CASE("fleet report: a repeat record in two bundles of a terminal is counted once") {
  const std::string log = Log(kFlood);
  FleetAggregator agg;
  agg.AddBundle(Bundle("t1", log, kFlood.size(), "2026-11-28T00:00:00.000Z"));
  agg.AddBundle(Bundle("t1", log, kFlood.size(), "2026-12-28T00:00:00.000Z"));
  const FleetReport r = agg.Finish();
  REQUIRE(r.terminals.size() == 1);
  CHECK(r.terminals[0].bundles == 2);
  CHECK(r.terminals[0].blocks.deny == 42003);
  CHECK(r.terminals[0].blocks.would_deny == 5);
  // Every denial of the second bundle was already counted from the first.
  CHECK(r.terminals[0].blocks_overlapping == 42008);
  REQUIRE(r.blocked.size() == 2);
  CHECK(r.blocked[0].blocks.deny == 42003);
}
