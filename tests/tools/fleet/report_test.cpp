// The fleet report's pure parts, without root: the drift index (grouping and differences,
// checked against a brute-force set difference), the aggregation of bundles (drift from the
// majority, blocks by terminal and digest, sessions by engineer, several bundles of one
// terminal counted once, failures named), and the rendering of failures and hostile names in
// the HTML and CSV files.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>

#include "hashdb/sha256.h"
#include "tools/export/html.h"
#include "tools/fleet/aggregate.h"
#include "tools/fleet/drift.h"
#include "tools/fleet/report_csv.h"
#include "tools/fleet/report_html.h"

using lockctl::fleet::BundleFacts;
using lockctl::fleet::DigestPath;
using lockctl::fleet::DriftIndex;
using lockctl::fleet::FleetAggregator;
using lockctl::fleet::FleetReport;
using lockctl::fleet::kUnmatched;

namespace {

hashdb::Digest D(int n) {
  const std::string s = "content " + std::to_string(n);
  return hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

// The digests of contents `ns`, sorted by digest, each with path /opt/app/f<n>.
std::vector<DigestPath> Set(const std::vector<int>& ns) {
  std::vector<DigestPath> v;
  for (int n : ns) v.push_back({D(n), "/opt/app/f" + std::to_string(n)});
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.digest < b.digest; });
  return v;
}

std::vector<int> Range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

std::set<std::string> Paths(const std::vector<DigestPath>& v) {
  std::set<std::string> s;
  for (const auto& d : v) s.insert(d.path);
  return s;
}

lockctl::exporttool::BlockEvent Block(std::uint64_t seq, const char* type, const std::string& path,
                                      int content, const char* time) {
  lockctl::exporttool::BlockEvent b;
  b.seq = seq;
  b.type = type;
  b.path = path;
  b.sha256 = hashdb::ToHex(D(content));
  b.time = time;
  b.reason = "not-in-allowlist";
  b.uid = "1000";
  return b;
}

BundleFacts Bundle(const std::string& id, std::uint64_t generation, const std::vector<int>& db,
                   const char* exported_at = "2026-11-27T12:00:00.000Z") {
  BundleFacts b;
  b.source = "/bundles/" + id + ".tar";
  b.terminal_id = id;
  b.hostname = "atm-" + id;
  b.exported_at = exported_at;
  b.db.present = true;
  b.db.generation = generation;
  b.db.signer_key_id = std::string(64, 'e');
  b.db.mode = "enforce";
  b.db.verified_on_terminal = true;
  b.db.digests = Set(db);
  b.db.records = static_cast<std::uint32_t>(db.size());
  return b;
}

void Chain(BundleFacts& b, std::uint64_t first, std::uint64_t last) {
  b.first_seq = first;
  b.last_seq = last;
  b.chain_records = last - first + 1;
}

const lockctl::fleet::TerminalRow& TerminalOf(const FleetReport& r, const std::string& key) {
  for (const auto& t : r.terminals) {
    if (t.key == key) return t;
  }
  FAIL("no terminal " << key);
  return r.terminals.front();
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("fleet drift: variants, groups, differences") {
  DriftIndex d;
  const auto golden = Range(0, 100);
  auto plus = golden;
  plus.push_back(1000);        // one file added by local maintenance
  auto minus = Range(1, 100);  // one file removed
  const std::uint32_t g = d.Add(Set(golden));
  CHECK(d.Add(Set(golden)) == g);  // the same set is the same variant
  const std::uint32_t p = d.Add(Set(plus));
  const std::uint32_t m = d.Add(Set(minus));
  const std::uint32_t other = d.Add(Set(Range(500, 560)));  // another image: nothing shared
  CHECK(d.variant_count() == 4);
  CHECK(d.GroupOf(g) == d.GroupOf(p));
  CHECK(d.GroupOf(g) == d.GroupOf(m));
  CHECK(d.GroupOf(other) != d.GroupOf(g));
  CHECK(d.group_count() == 2);

  auto c = d.Diff(p, g);
  CHECK(Paths(c.added) == std::set<std::string>{"/opt/app/f1000"});
  CHECK(c.removed.empty());
  c = d.Diff(m, g);
  CHECK(c.added.empty());
  CHECK(Paths(c.removed) == std::set<std::string>{"/opt/app/f0"});
  // Between two non-reference variants, through the reference.
  c = d.Diff(p, m);
  CHECK(Paths(c.added) == std::set<std::string>{"/opt/app/f0", "/opt/app/f1000"});
  CHECK(c.removed.empty());
  c = d.Diff(m, p);
  CHECK(c.added.empty());
  CHECK(Paths(c.removed) == std::set<std::string>{"/opt/app/f0", "/opt/app/f1000"});
  CHECK(d.Diff(g, g).added.empty());
  CHECK(d.Diff(other, g).added.empty());  // different groups: not compared

  SUBCASE("the threshold: half of the union shared") {
    DriftIndex e;
    const std::uint32_t a = e.Add(Set(Range(0, 10)));
    CHECK(e.GroupOf(e.Add(Set(Range(3, 13)))) == e.GroupOf(a));  // 7 of 13 shared
    CHECK(e.GroupOf(e.Add(Set(Range(4, 14)))) != e.GroupOf(a));  // 6 of 14 shared
  }
}

TEST_CASE("fleet drift: differences match brute force on random variants") {
  std::mt19937 rng(12345);
  DriftIndex d;
  std::vector<std::set<int>> sets;
  std::vector<std::uint32_t> ids;
  for (int v = 0; v < 30; ++v) {
    std::set<int> s;
    for (int i = 0; i < 200; ++i) {
      if (rng() % 10 != 0) s.insert(i);  // ~90% of the image
    }
    for (int k = 0; k < 5; ++k) s.insert(1000 + static_cast<int>(rng() % 50));  // local files
    sets.push_back(s);
    ids.push_back(d.Add(Set(std::vector<int>(s.begin(), s.end()))));
  }
  CHECK(d.group_count() == 1);
  for (int a = 0; a < 30; ++a) {
    for (int b = 0; b < 30; ++b) {
      if (ids[a] == ids[b]) continue;
      std::vector<int> add, rem;
      std::set_difference(sets[a].begin(), sets[a].end(), sets[b].begin(), sets[b].end(),
                          std::back_inserter(add));
      std::set_difference(sets[b].begin(), sets[b].end(), sets[a].begin(), sets[a].end(),
                          std::back_inserter(rem));
      const auto c = d.Diff(ids[a], ids[b]);
      REQUIRE(Paths(c.added) == Paths(Set(add)));
      REQUIRE(Paths(c.removed) == Paths(Set(rem)));
      REQUIRE(std::is_sorted(c.added.begin(), c.added.end(),
                             [](const auto& x, const auto& y) { return x.digest < y.digest; }));
    }
  }
}

TEST_CASE("fleet drift: at most kMaxImageGroups groups") {
  DriftIndex d;
  for (std::size_t g = 0; g < lockctl::fleet::kMaxImageGroups; ++g) {
    const int base = static_cast<int>(g) * 10;
    CHECK(d.GroupOf(d.Add(Set(Range(base, base + 10)))) != kUnmatched);
  }
  const std::uint32_t extra = d.Add(Set(Range(100000, 100010)));
  CHECK(d.GroupOf(extra) == kUnmatched);
  CHECK(d.group_count() == lockctl::fleet::kMaxImageGroups);
}

TEST_CASE("fleet seq ranges") {
  lockctl::fleet::SeqRanges r;
  r.Add(10, 20);
  r.Add(30, 40);
  CHECK(r.size() == 2);
  CHECK(r.Contains(10));
  CHECK(r.Contains(20));
  CHECK(!r.Contains(21));
  CHECK(!r.Contains(9));
  r.Add(21, 29);  // touches both: one range
  CHECK(r.size() == 1);
  CHECK(r.Contains(25));
  r.Add(1, 5);
  r.Add(3, 45);
  CHECK(r.size() == 1);
  CHECK(r.Contains(1));
  CHECK(r.Contains(45));
  CHECK(!r.Contains(46));
}

TEST_CASE("fleet aggregation: drift from the majority, blocks, sessions, failures") {
  FleetAggregator agg;
  const auto golden = Range(0, 50);
  // Four terminals on the golden image (generation 5), one with a file added and one removed
  // by a local maintenance (generation 6), one of another model.
  for (const char* id : {"t1", "t2", "t3", "t4"}) {
    auto b = Bundle(id, 5, golden);
    b.facts.generations.push_back(
        {3, "2026-11-01T00:00:00Z", "db_load", "1", "", {}, {}, {}, {}, {}, {}, {}, {}});
    b.facts.generations.push_back(
        {7, "2026-11-02T00:00:00Z", "db_load", "5", "", {}, {}, {}, {}, {}, {}, {}, {}});
    agg.AddBundle(std::move(b));
  }
  auto drifted = Range(1, 50);
  drifted.push_back(777);
  auto t5 = Bundle("t5", 6, drifted);
  Chain(t5, 1, 40);
  t5.facts.blocks.push_back(Block(10, "deny", "/tmp/dropper", 900, "2026-11-20T10:00:00.000Z"));
  t5.facts.blocks.push_back(Block(11, "deny", "/tmp/dropper", 900, "2026-11-21T10:00:00.000Z"));
  t5.facts.blocks.push_back(
      Block(12, "would_deny", "/opt/app/tool", 901, "2026-11-19T10:00:00.000Z"));
  lockctl::exporttool::MaintenanceSession s;
  s.session = "m-1";
  s.start_seq = 20;
  s.start_time = "2026-11-25T09:00:00.000Z";
  s.holder = "Hanako Suzuki";
  s.token_id = "tok-hs";
  s.organisation = "ACME ATM Services";
  s.end_type = "maintenance_finish";
  s.end_time = "2026-11-25T09:30:00.000Z";
  s.generation = "6";
  s.previous_generation = "5";
  s.added = "1";
  s.removed = "1";
  s.changed = "0";
  s.learned.push_back({21, "2026-11-25T09:10:00.000Z", "write", "/opt/app/f777", "", "elf-exec"});
  t5.facts.sessions.push_back(s);
  agg.AddBundle(std::move(t5));
  auto x1 = Bundle("x1", 2, Range(5000, 5030));
  x1.facts.blocks.push_back(Block(3, "deny", "/tmp/dropper2", 900, "2026-11-22T10:00:00.000Z"));
  agg.AddBundle(std::move(x1));
  agg.AddFailure({"/bundles/evil.tar",
                  "t9",
                  {"MANIFEST.sig: the signature does not verify over MANIFEST.sha256 (the "
                   "manifest or the signature was changed)",
                   "blocks.csv: SHA-256 00 does not match the manifest's 11"}});

  const FleetReport r = agg.Finish();
  CHECK(r.bundles == 7);
  CHECK(r.verified == 6);
  REQUIRE(r.terminals.size() == 6);
  REQUIRE(r.groups.size() == 2);
  const auto& g = r.groups[0];
  CHECK(g.terminals == 5);
  CHECK(g.majority_terminals == 4);
  CHECK(g.majority_digests == 50);
  CHECK(g.majority_generations == std::map<std::uint64_t, std::size_t>{{5, 4}});
  REQUIRE(g.drifted.size() == 1);
  CHECK(r.terminals[g.drifted[0].terminal].key == "t5");
  const auto& change = g.changes.at(g.drifted[0].variant);
  CHECK(Paths(change.added) == std::set<std::string>{"/opt/app/f777"});
  CHECK(Paths(change.removed) == std::set<std::string>{"/opt/app/f0"});
  CHECK(r.groups[1].terminals == 1);
  CHECK(r.groups[1].drifted.empty());

  const auto& t1 = TerminalOf(r, "t1");
  CHECK(t1.image == 1);
  CHECK(std::string(t1.baseline) == "majority");
  CHECK(t1.lineage == std::vector<std::uint64_t>{1, 5});
  const auto& t5r = TerminalOf(r, "t5");
  CHECK(std::string(t5r.baseline) == "drifted");
  CHECK(t5r.digests_added == 1);
  CHECK(t5r.digests_removed == 1);
  CHECK(t5r.blocks.deny == 2);
  CHECK(t5r.blocks.would_deny == 1);
  CHECK(t5r.blocks.in_repeats == 0);
  CHECK(t5r.blocked_digests == 2);
  CHECK(t5r.sessions == 1);
  CHECK(TerminalOf(r, "x1").image == 2);

  // Blocks by digest: the dropper on two terminals, under two paths.
  REQUIRE(r.blocked.size() == 2);
  CHECK(r.blocked[0].sha256 == hashdb::ToHex(D(900)));
  CHECK(r.blocked[0].blocks.deny == 3);
  CHECK(r.blocked[0].terminals == 2);
  CHECK(r.blocked[0].paths == std::vector<std::string>{"/tmp/dropper", "/tmp/dropper2"});
  CHECK(r.blocked[0].blocks.first_time == "2026-11-20T10:00:00.000Z");
  CHECK(r.blocked[0].blocks.last_time == "2026-11-22T10:00:00.000Z");
  CHECK(r.blocked[1].blocks.would_deny == 1);

  // Sessions by engineer.
  REQUIRE(r.engineers.size() == 1);
  CHECK(r.engineers[0].holder == "Hanako Suzuki");
  CHECK(r.engineers[0].sessions == 1);
  CHECK(r.engineers[0].finished == 1);
  CHECK(r.engineers[0].terminals == 1);
  CHECK(r.engineers[0].learned == 1);
  REQUIRE(r.sessions.size() == 1);
  CHECK(r.sessions[0].terminal_key == "t5");

  // Failures: named with every reason, in the CSV and the page.
  REQUIRE(r.failures.size() == 1);
  const auto csv = lockctl::fleet::RenderFleetCsv(r);
  const std::string& failures = csv.at("failures.csv");
  CHECK(Contains(failures, "/bundles/evil.tar,"));
  CHECK(Contains(failures, ",t9,\"MANIFEST.sig: the signature does not verify"));
  CHECK(Contains(failures, "blocks.csv: SHA-256 00 does not match"));
  CHECK(std::count(failures.begin(), failures.end(), '\n') == 3);
  const std::string html = lockctl::fleet::RenderFleetHtml(r, {"/trust", "", "now", {"/bundles"}});
  CHECK(Contains(html, "/bundles/evil.tar"));
  CHECK(Contains(html, "MANIFEST.sig: the signature does not verify over MANIFEST.sha256"));
  CHECK(Contains(html, "Image group 1: 5 terminal(s), 2 variant(s)"));
  CHECK(Contains(html, "/opt/app/f777"));
  // drift.csv: one row per changed digest of the drifted terminal.
  const std::string& drift = csv.at("drift.csv");
  CHECK(Contains(drift, "1,t5,atm-t5,6," + g.majority_fingerprint + ",added," +
                            hashdb::ToHex(D(777)) + ",/opt/app/f777,"));
  CHECK(Contains(drift, ",removed," + hashdb::ToHex(D(0)) + ",/opt/app/f0,"));
  CHECK(std::count(drift.begin(), drift.end(), '\n') == 3);
  CHECK(Contains(csv.at("terminals.csv"), "t5,atm-t5,"));
}

TEST_CASE("fleet aggregation: several bundles of one terminal are counted once") {
  FleetAggregator agg;
  // March: seq 1..30; April: seq 1..60 (the whole log again, plus new records).
  auto march = Bundle("t1", 5, Range(0, 20), "2026-03-31T12:00:00.000Z");
  Chain(march, 1, 30);
  march.facts.blocks.push_back(Block(10, "deny", "/tmp/a", 1, "2026-03-10T00:00:00.000Z"));
  auto april = Bundle("t1", 6, Range(0, 21), "2026-04-30T12:00:00.000Z");
  Chain(april, 1, 60);
  april.facts.blocks.push_back(Block(10, "deny", "/tmp/a", 1, "2026-03-10T00:00:00.000Z"));
  april.facts.blocks.push_back(Block(45, "deny", "/tmp/b", 2, "2026-04-10T00:00:00.000Z"));
  SUBCASE("in time order") {
    agg.AddBundle(march);
    agg.AddBundle(april);
  }
  SUBCASE("newest first") {
    agg.AddBundle(april);
    agg.AddBundle(march);
  }
  const FleetReport r = agg.Finish();
  REQUIRE(r.terminals.size() == 1);
  const auto& t = r.terminals[0];
  CHECK(t.bundles == 2);
  CHECK(t.blocks.deny == 2);
  CHECK(t.blocks_overlapping == 1);
  // The newest export describes the terminal.
  CHECK(t.db.generation == 6);
  CHECK(t.exported_at == "2026-04-30T12:00:00.000Z");
  CHECK(t.latest_bundle == "/bundles/t1.tar");
  REQUIRE(r.groups.size() == 1);
  CHECK(r.groups[0].terminals == 1);
  CHECK(r.groups[0].drifted.empty());
}

TEST_CASE("fleet aggregation: terminals without an id or a database") {
  FleetAggregator agg;
  auto a = Bundle("", 1, Range(0, 5));
  a.hostname = "kiosk-7";
  agg.AddBundle(a);
  auto b = Bundle("t2", 1, {});
  b.db.present = false;
  b.db.error = "no allowlist.lockdb in the bundle";
  agg.AddBundle(b);
  const FleetReport r = agg.Finish();
  REQUIRE(r.terminals.size() == 2);
  CHECK(r.terminals[0].key == "host:kiosk-7");
  REQUIRE(r.no_database.size() == 1);
  CHECK(r.terminals[r.no_database[0]].key == "t2");
  CHECK(std::string(r.terminals[r.no_database[0]].baseline) == "no database");
  const std::string html = lockctl::fleet::RenderFleetHtml(r, {"/trust", "", "now", {"x"}});
  CHECK(Contains(html, "no allowlist.lockdb in the bundle"));
  CHECK(Contains(html, "(no terminal id) kiosk-7"));
}

TEST_CASE("fleet report: hostile names stay text in HTML and CSV") {
  FleetAggregator agg;
  const std::string evil = "x\"><script>alert(1)</script>\n=cmd|' /c calc'!A0\xff";
  auto b = Bundle("t1", 1, Range(0, 3));
  b.hostname = evil;
  b.facts.blocks.push_back(Block(4, "deny", evil, 7, "2026-11-20T10:00:00.000Z"));
  agg.AddBundle(b);
  agg.AddFailure({evil, evil, {evil}});
  const FleetReport r = agg.Finish();
  const std::string html = lockctl::fleet::RenderFleetHtml(r, {evil, "", "now", {evil}});
  CHECK(!Contains(html, "<script>"));
  CHECK(Contains(html, "&lt;script&gt;"));
  CHECK(!Contains(html, "\xff"));
  for (const auto& [name, csv] : lockctl::fleet::RenderFleetCsv(r)) {
    const std::string& file = name;  // clang 14 cannot capture a structured binding (CAPTURE)
    CAPTURE(file);
    CHECK(!Contains(csv, "\n="));
    CHECK(!Contains(csv, ",=cmd"));
    CHECK(!Contains(csv, "\xff"));
    // Every line ends with CRLF: no raw newline from a name.
    for (std::size_t i = 0; i < csv.size(); ++i) {
      if (csv[i] == '\n') REQUIRE((i > 0 && csv[i - 1] == '\r'));
    }
  }
}
