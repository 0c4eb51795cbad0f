// `lockctl log summary`'s grouping and proposals (tools/log/summary.h), without root: groups by
// (sha256, path) with counts, first/last time, uids and programs; each proposal rule, the
// longest-directory location rule, and the text and JSON renderings of a hostile path.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/record.h"
#include "audit/verify.h"
#include "tools/log/summary.h"

using lockctl::logsummary::Action;
using lockctl::logsummary::Context;
using lockctl::logsummary::Group;
using lockctl::logsummary::Propose;
using lockctl::logsummary::Summary;

namespace {

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

using lockctl::exporttool::BlockEvent;

BlockEvent R(const std::string& path, const std::string& sha, const std::string& uid,
             const std::string& time, const std::string& exe = "/usr/bin/bash",
             const std::string& mode = "audit", const std::string& reason = "not-in-allowlist") {
  BlockEvent b;
  b.time = b.first_time = b.last_time = time;
  b.type = "would_deny";
  b.reason = reason;
  b.mode = mode;
  b.uid = uid;
  b.exe = exe;
  b.path = path;
  b.sha256 = sha;
  return b;
}

Group G(const std::string& path, const std::string& uid = "0", std::uint64_t count = 3,
        const std::string& sha = kShaA) {
  Summary s;
  for (std::uint64_t i = 0; i < count; ++i) {
    s.Add(R(path, sha, uid, "2026-11-2" + std::to_string(i % 10) + "T10:00:00.000Z"));
  }
  return s.Finish({}).at(0).group;
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("log summary: grouping by content and path") {
  Summary s;
  s.Add(R("/opt/atm/bin/report", kShaA, "0", "2026-11-27T08:00:00.000Z", "/usr/bin/python3"));
  s.Add(R("/opt/atm/bin/report", kShaA, "0", "2026-11-28T08:00:00.000Z", "/usr/bin/python3"));
  s.Add(R("/opt/atm/bin/report", kShaA, "0", "2026-11-26T08:00:00.000Z", "/usr/bin/bash"));
  s.Add(R("/opt/atm/bin/report", kShaB, "0", "2026-11-29T08:00:00.000Z"));  // new content
  s.Add(R("/tmp/copy", kShaA, "1000", "2026-11-29T09:00:00.000Z"));         // same content
  CHECK(s.denials() == 5);
  CHECK(s.repeat_records() == 0);
  CHECK(s.first() == "2026-11-26T08:00:00.000Z");
  CHECK(s.last() == "2026-11-29T09:00:00.000Z");
  Context ctx;
  ctx.baseline_roots = {"/opt/atm"};
  const auto e = s.Finish(ctx);
  REQUIRE(e.size() == 3);
  // Investigate first, then by count.
  CHECK(e[0].group.path == "/tmp/copy");
  CHECK(e[0].proposal.action == Action::kInvestigate);
  CHECK(e[0].paths_with_digest == 2);
  CHECK(e[1].group.path == "/opt/atm/bin/report");
  CHECK(e[1].group.sha256 == kShaA);
  CHECK(e[1].group.count == 3);
  CHECK(e[1].group.first == "2026-11-26T08:00:00.000Z");
  CHECK(e[1].group.last == "2026-11-28T08:00:00.000Z");
  CHECK(e[1].group.uids == std::map<std::string, std::uint64_t>{{"0", 3}});
  CHECK(e[1].group.programs ==
        std::map<std::string, std::uint64_t>{{"/usr/bin/bash", 1}, {"/usr/bin/python3", 2}});
  CHECK(e[1].digests_at_path == 2);
  CHECK(e[1].proposal.action == Action::kAddToBaseline);
  CHECK(Contains(e[1].proposal.why, "2 different contents were blocked at this path"));
  CHECK(e[2].group.sha256 == kShaB);
  CHECK(e[2].group.count == 1);
}

TEST_CASE("log summary: programs per group are bounded") {
  Summary s;
  for (int i = 0; i < 20; ++i) {
    s.Add(R("/opt/x", kShaA, "0", "2026-11-27T08:00:00.000Z", "/usr/bin/p" + std::to_string(i)));
  }
  const auto e = s.Finish({});
  REQUIRE(e.size() == 1);
  CHECK(e[0].group.programs.size() == lockctl::logsummary::kMaxPrograms);
  CHECK(e[0].group.more_programs);
  CHECK(e[0].group.count == 20);
}

TEST_CASE("log summary: proposal rules") {
  Context ctx;
  ctx.baseline_roots = {"/opt/atm/"};
  ctx.baseline_excludes = {"/opt/atm/cache"};

  SUBCASE("system software by root: add to the baseline") {
    const auto p = Propose(G("/opt/atm/bin/report", "0", 9), ctx);
    CHECK(p.action == Action::kAddToBaseline);
    CHECK(Contains(p.why, "seen 9 times, uid 0, from /opt/atm"));
    CHECK(Contains(p.why, "under the baseline root /opt/atm, so the next maintenance window"));
    const auto q = Propose(G("/usr/lib/x/tool", "0"), ctx);
    CHECK(q.action == Action::kAddToBaseline);
    CHECK(Contains(q.why, "/usr is not a baseline root: add its directory to baseline_roots"));
  }
  SUBCASE("under a baseline root but excluded") {
    const auto p = Propose(G("/opt/atm/cache/gen.sh", "0"), ctx);
    CHECK(p.action == Action::kAddToBaseline);
    CHECK(Contains(p.why, "baseline_excludes \"/opt/atm/cache\" skips it"));
  }
  SUBCASE("writable places: investigate") {
    for (const char* path : {"/tmp/x", "/var/tmp/y", "/dev/shm/z", "/home/op/a.sh", "/root/b",
                             "/media/usb/c", "/run/user/1000/d"}) {
      CAPTURE(path);
      const auto p = Propose(G(path, "1000", 1), ctx);
      CHECK(p.action == Action::kInvestigate);
    }
    const auto p = Propose(G("/tmp/dropper", "1000", 1), ctx);
    CHECK(Contains(p.why, "seen once, uid 1000, from /tmp (a writable place"));
    CHECK(Contains(p.why, "do not add it to the baseline"));
  }
  SUBCASE("the longest directory decides") {
    Context sandbox;
    sandbox.baseline_roots = {"/tmp/lockd-it-x/mnt/app"};
    CHECK(Propose(G("/tmp/lockd-it-x/mnt/app/tool"), sandbox).action == Action::kAddToBaseline);
    CHECK(Propose(G("/tmp/lockd-it-x/mnt/foreign"), sandbox).action == Action::kInvestigate);
    Context whole;
    whole.baseline_roots = {"/"};
    CHECK(Propose(G("/tmp/x"), whole).action == Action::kInvestigate);
    CHECK(Propose(G("/srv/app/x"), whole).action == Action::kAddToBaseline);
    CHECK(Propose(G("/data/x"), whole).action == Action::kAddToBaseline);  // under root "/"
    CHECK(Propose(G("/data/x"), ctx).action == Action::kReview);           // no known location
    // "/tmpfoo" is not under "/tmp".
    CHECK(Propose(G("/tmpfoo/x"), ctx).action == Action::kReview);
  }
  SUBCASE("a person's account in a software location: review") {
    const auto p = Propose(G("/opt/atm/bin/report", "1001"), ctx);
    CHECK(p.action == Action::kReview);
    CHECK(Contains(p.why, "person's account (uid 1001)"));
    CHECK(Propose(G("/opt/atm/bin/report", "65534"), ctx).action == Action::kAddToBaseline);
  }
  SUBCASE("changed since the baseline: review") {
    ctx.database_paths = std::map<std::string, std::string>{{"/opt/atm/bin/report", kShaB}};
    const auto p = Propose(G("/opt/atm/bin/report", "0"), ctx);
    CHECK(p.action == Action::kReview);
    CHECK(Contains(p.why, "the database in force has another content at this path"));
    CHECK(Propose(G("/opt/atm/bin/other", "0"), ctx).action == Action::kAddToBaseline);
  }
  SUBCASE("reasons") {
    Summary s;
    s.Add(R("/opt/atm/fuse/x", kShaA, "0", "t", "/bin/sh", "audit", "untrusted-filesystem"));
    s.Add(R("/opt/atm/y", kShaA, "0", "t", "/bin/sh", "audit", "changed-while-hashing"));
    s.Add(R("/opt/atm/z", "", "0", "t", "/bin/sh", "audit", "read-failed"));
    s.Add(R("/opt/atm/w", kShaB, "0", "t", "/bin/sh", "maintenance"));
    s.Add(R("/home/u/true", kShaB, "1000", "t", "/bin/sh", "enforce", "writable-by-user"));
    std::map<std::string, Action> got;
    for (const auto& e : s.Finish(ctx)) got[e.group.path] = e.proposal.action;
    CHECK(got["/opt/atm/fuse/x"] == Action::kKeepBlocked);
    CHECK(got["/opt/atm/y"] == Action::kCheck);
    CHECK(got["/opt/atm/z"] == Action::kCheck);
    CHECK(got["/opt/atm/w"] == Action::kNone);
    // Allowlisted content in a file a user can rewrite: keep it blocked (not "investigate":
    // the content is known; the file's owner is the problem).
    CHECK(got["/home/u/true"] == Action::kKeepBlocked);
  }
}

TEST_CASE("log summary: text and JSON keep hostile paths harmless") {
  Summary s;
  const std::string evil = "/tmp/x\n\x1b[31mred\xff\"";
  s.Add(R(evil, kShaA, "1000", "2026-11-27T08:00:00.000Z"));
  const auto e = s.Finish({});
  lockctl::logsummary::RenderInfo info;
  info.types = {"would_deny"};
  info.files = {"/var/log/lockd/audit.jsonl"};
  const std::string text = RenderText(s, e, info);
  CHECK(!Contains(text, "\x1b"));
  CHECK(!Contains(text, "\xff"));
  CHECK(Contains(text, "investigate  /tmp/x\\x0a\\x1b[31mred\\xff\""));
  CHECK(Contains(text, "would_deny: 1 denial(s) in 1 group(s)"));
  CHECK(!Contains(text, "repeats:"));
  CHECK(Contains(text, "proposals: 1 investigate"));
  const std::string json = RenderJson(s, e, info);
  CHECK(Contains(json, "\"schema\":\"lockd-log-summary/2\""));
  CHECK(Contains(json, "\"path_hex\":\"2f746d702f780a1b5b33316d726564ff22\""));
  CHECK(Contains(json, "\"action\":\"investigate\""));
  CHECK(Contains(json, "\"uids\":{\"1000\":1}"));
  CHECK(!Contains(json, "\x1b"));
}

namespace {

// Chained log lines of `records`, read back the way `lockctl log summary` reads them
// (exporttool::ReadBlockEvent, through the export's reading).
std::vector<BlockEvent> Blocks(const std::vector<lockd::audit::Record>& records) {
  std::string log;
  std::string prev = lockd::audit::kGenesisPrev;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string line = lockd::audit::FormatLine(i + 1, prev, records[i]);
    log += line + "\n";
    prev = lockd::audit::LineHash(line);
  }
  return lockctl::exporttool::ReadAuditFacts({{"audit.jsonl", log}}, std::nullopt).blocks;
}

lockd::audit::Record WouldDeny(const char* time, const char* path, const char* uid_exe) {
  lockd::audit::Record r("would_deny");
  r.set_time(*lockd::audit::ParseTime(time));
  r.AddBytes("reason", "not-in-allowlist").AddBytes("mode", "audit").AddInt("pid", 7);
  r.AddInt("uid", 0).AddBytes("exe", uid_exe).AddBytes("path", path);
  r.AddBytes("sha256", std::string(64, 'a'));
  return r;
}

lockd::audit::Record Repeat(const char* of, std::uint64_t count, const char* first,
                            const char* last, const char* path, const char* exe) {
  lockd::audit::Record r("repeat");
  r.set_time(*lockd::audit::ParseTime(last));
  r.AddBytes("of", of).AddUint("count", count).AddBytes("first_time", first);
  r.AddBytes("last_time", last).AddBytes("reason", "not-in-allowlist");
  r.AddBytes("mode", "audit").AddInt("uid", 0).AddBytes("path", path);
  r.AddBytes("sha256", std::string(64, 'a')).AddInt("last_pid", 9).AddBytes("exe", exe);
  return r;
}

}  // namespace

TEST_CASE("log summary: a repeat record counts as the denials it stands for") {
  // newtool run 3 times, exec and read each: lockd writes the first would_deny in full and
  // folds the other 5 into one repeat record (docs/audit-log.md, "Repeats").
  const auto blocks = Blocks({
      WouldDeny("2026-12-05T03:11:04.761Z", "/opt/atm/newtool", "/usr/bin/timeout"),
      WouldDeny("2026-12-05T03:11:05.548Z", "/opt/atm/job.sh", "/usr/bin/dash"),
      Repeat("would_deny", 5, "2026-12-05T03:11:04.800Z", "2026-12-05T03:11:04.959Z",
             "/opt/atm/newtool", "/usr/bin/timeout"),
      Repeat("deny", 7, "2026-12-05T04:00:00.000Z", "2026-12-05T04:00:09.000Z", "/opt/atm/newtool",
             "/usr/bin/timeout"),
  });
  REQUIRE(blocks.size() == 4);
  Summary s;
  for (const auto& b : blocks) {
    if (b.type == "would_deny") s.Add(b);  // --type would-deny: the repeat of deny is not
  }
  CHECK(s.denials() == 7);
  CHECK(s.repeat_records() == 1);
  CHECK(s.in_repeats() == 5);
  CHECK(s.first() == "2026-12-05T03:11:04.761Z");
  CHECK(s.last() == "2026-12-05T03:11:05.548Z");
  Context ctx;
  ctx.baseline_roots = {"/opt/atm"};
  const auto e = s.Finish(ctx);
  REQUIRE(e.size() == 2);
  const Group& g = e[0].group;
  CHECK(g.path == "/opt/atm/newtool");  // most denials first
  CHECK(g.count == 6);
  CHECK(g.repeat_records == 1);
  CHECK(g.in_repeats == 5);
  CHECK(g.first == "2026-12-05T03:11:04.761Z");
  CHECK(g.last == "2026-12-05T03:11:04.959Z");  // the repeat's last_time
  CHECK(g.uids == std::map<std::string, std::uint64_t>{{"0", 6}});
  CHECK(g.programs == std::map<std::string, std::uint64_t>{{"/usr/bin/timeout", 6}});
  CHECK(g.types == std::set<std::string>{"would_deny"});
  CHECK(Contains(e[0].proposal.why, "seen 6 times"));

  lockctl::logsummary::RenderInfo info;
  info.types = {"would_deny"};
  info.files = {"/var/log/lockd/audit.jsonl"};
  const std::string text = RenderText(s, e, info);
  CHECK(Contains(text,
                 "would_deny: 7 denial(s) in 2 group(s), 2026-12-05T03:11:04.761Z .. "
                 "2026-12-05T03:11:05.548Z\n"));
  CHECK(Contains(text, "\nrepeats:        5 of them counted in 1 repeat record(s)"));
  CHECK(Contains(text,
                 "  seen:    6 times (5 in 1 repeat record), 2026-12-05T03:11:04.761Z .. "
                 "2026-12-05T03:11:04.959Z\n"));
  CHECK(Contains(text, "  uid:     0 (6)\n"));
  CHECK(Contains(text, "  by:      /usr/bin/timeout (6)\n"));
  CHECK(Contains(text, "  seen:    once, 2026-12-05T03:11:05.548Z\n"));
  const std::string json = RenderJson(s, e, info);
  CHECK(Contains(json, "\"denials\":7,\"repeat_records\":1,\"in_repeats\":5,"));
  CHECK(Contains(json,
                 "\"count\":6,\"repeat_records\":1,\"in_repeats\":5,"
                 "\"first\":\"2026-12-05T03:11:04.761Z\",\"last\":\"2026-12-05T03:11:04.959Z\""));

  // --type deny: the repeat of deny alone, its count, its span.
  Summary d;
  for (const auto& b : blocks) {
    if (b.type == "deny") d.Add(b);
  }
  CHECK(d.denials() == 7);
  const auto de = d.Finish(ctx);
  REQUIRE(de.size() == 1);
  CHECK(de[0].group.count == 7);
  CHECK(de[0].group.first == "2026-12-05T04:00:00.000Z");
  CHECK(de[0].group.last == "2026-12-05T04:00:09.000Z");
}

TEST_CASE("log summary: a repeat record without a count adds no denial") {
  BlockEvent b = R("/opt/x", kShaA, "0", "2026-11-27T08:00:00.000Z");
  b.repeat = true;
  b.count = 0;
  Summary s;
  s.Add(b);
  CHECK(s.denials() == 0);
  CHECK(s.repeat_records() == 1);
  CHECK(s.Finish({}).empty());
}
