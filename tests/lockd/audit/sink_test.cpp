// The audit log as the daemon's DecisionSink: what is recorded, with which fields.
#include <doctest/doctest.h>

#include "audit/json_parse.h"
#include "audit/verify.h"
#include "hashdb/sha256.h"
#include "lockd/audit/audit_sink.h"
#include "tests/support/db_fixture.h"

using namespace lockd;
using namespace lockd::audit;

TEST_CASE("audit sink: denials, would-denials and daemon events become records") {
  testsupport::TempDir dir;
  AuditLogOptions options;
  options.file.path = dir.Join("audit.jsonl");
  auto sink = AuditSink::Start(options);
  REQUIRE(sink.ok());

  DaemonEvent start{1795795454123000000, DaemonEventKind::kStarted, "lockd 0.1.0 started", 7};
  (*sink)->OnDaemonEvent(start);
  DecisionRecord d;
  d.time_unix_ns = 1795795455000000000;
  d.verdict = Verdict::kDeny;
  d.reason = Reason::kNotInAllowlist;
  d.pid = 321;
  d.ppid = 1;
  d.uid = 1000;
  d.exe = "/bin/bash";
  d.path = "/tmp/x\n{\"type\":\"allow\"}\xff";
  d.digest = hashdb::Sha256({});
  d.db_generation = 7;
  (*sink)->OnDecision(d);
  DecisionRecord allowed = d;
  allowed.verdict = Verdict::kAllow;
  (*sink)->OnDecision(allowed);  // not recorded
  DecisionRecord would = d;
  would.verdict = Verdict::kWouldDeny;
  would.mode = EffectiveMode::kAudit;
  (*sink)->OnDecision(would);
  (*sink)->OnDaemonEvent({0, DaemonEventKind::kDatabaseRefused, "generation 3 < 7", 3});
  (*sink)->OnDaemonEvent({0, DaemonEventKind::kStopping, "SIGTERM", 0});  // flushes

  auto bytes = ReadLogFile(options.file.path);
  REQUIRE(bytes.ok());
  std::vector<JsonValue> records;
  std::size_t pos = 0;
  while (pos < bytes->size()) {
    const auto nl = bytes->find('\n', pos);
    auto json = ParseJson(std::string_view(*bytes).substr(pos, nl - pos));
    REQUIRE(json.ok());
    records.push_back(*json);
    pos = nl + 1;
  }
  REQUIRE(records.size() == 5);
  CHECK(records[0].Find("type")->string == "daemon_start");
  CHECK(records[0].Find("time")->string == "2026-11-27T16:04:14.123Z");
  CHECK(records[0].Find("generation")->uint_value == 7);
  CHECK(records[1].Find("type")->string == "deny");
  CHECK(records[1].Find("reason")->string == "not-in-allowlist");
  CHECK(records[1].Find("mode")->string == "enforce");
  CHECK(records[1].Find("pid")->uint_value == 321);
  CHECK(*FieldBytes(records[1], "path") == d.path);
  CHECK(records[1].Find("sha256")->string == hashdb::ToHex(*d.digest));
  CHECK(records[2].Find("type")->string == "would_deny");
  CHECK(records[2].Find("mode")->string == "audit");
  CHECK(records[3].Find("type")->string == "db_refused");
  CHECK(records[3].Find("message")->string == "generation 3 < 7");
  CHECK(records[4].Find("type")->string == "daemon_stop");
  CHECK(VerifyLogs(std::vector<LogInput>{{"audit.jsonl", *bytes}}).ok());
}
