// tools/since.h: the one --since parser of `lockctl log show` and `lockctl export`.
#include "tools/since.h"

#include <doctest/doctest.h>

#include <sstream>

#include "lockd/audit/audit_file.h"
#include "tests/support/db_fixture.h"
#include "tools/export/commands.h"
#include "tools/log/commands.h"

namespace {

using lockctl::ParseSince;
using lockd::audit::Clock;

const Clock::time_point kNow = *lockd::audit::ParseTime("2026-11-27T16:04:14.123Z");

}  // namespace

TEST_CASE("--since: durations ago in s, m, h, d") {
  CHECK(ParseSince("30s", kNow) == kNow - std::chrono::seconds(30));
  CHECK(ParseSince("15m", kNow) == kNow - std::chrono::minutes(15));
  CHECK(ParseSince("24h", kNow) == kNow - std::chrono::hours(24));
  CHECK(ParseSince("7d", kNow) == kNow - std::chrono::hours(7 * 24));
  CHECK(ParseSince("0s", kNow) == kNow);
  CHECK(ParseSince("999999999s", kNow) == kNow - std::chrono::seconds(999999999));
  // Reaching before 1970 means everything (and must not overflow the clock).
  CHECK(ParseSince("999999999d", kNow) == Clock::time_point{});
  CHECK(ParseSince("30000d", kNow) == Clock::time_point{});
}

TEST_CASE("--since: absolute times and dates as the audit log writes them") {
  CHECK(ParseSince("2026-11-27T08:00:00Z", kNow) ==
        lockd::audit::ParseTime("2026-11-27T08:00:00Z"));
  CHECK(ParseSince("2026-11-27T08:00:00.250Z", kNow) ==
        lockd::audit::ParseTime("2026-11-27T08:00:00.250Z"));
  CHECK(ParseSince("2026-11-27", kNow) == lockd::audit::ParseTime("2026-11-27T00:00:00Z"));
}

TEST_CASE("--since: everything else is refused") {
  for (const char* bad :
       {"", "s", "30", "30w", "30S", "-30s", "+30s", " 30s", "30s ", "3 0s", "1234567890s", "30ss",
        "yesterday", "2026-11-27T08:00:00+01:00", "2026-13-01", "now"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseSince(bad, kNow));
  }
}

TEST_CASE("lockctl log show and lockctl export take the same --since forms") {
  testsupport::TempDir dir;
  const std::string log = dir.Join("audit.jsonl");
  {
    lockd::audit::AuditFileOptions o;
    o.path = log;
    o.sync = false;
    auto file = lockd::audit::AuditFile::Open(o);
    REQUIRE(file.ok());
    lockd::audit::Record old_record("daemon_start");
    old_record.set_time(*lockd::audit::ParseTime("2026-01-01T00:00:00Z"));
    REQUIRE((*file)->Append(old_record).ok());
    REQUIRE((*file)->Append(lockd::audit::Record("daemon_stop")).ok());  // now
  }
  for (const char* since : {"30s", "15m", "24h", "7d", "2026-11-27", "2026-11-27T08:00:00Z"}) {
    CAPTURE(since);
    lockctl::LogShowArgs show;
    show.input.files = {log};
    show.since = since;
    std::ostringstream so, se;
    CHECK(lockctl::RunLogShow(show, so, se) == 0);
    CHECK(se.str().empty());
    CHECK(so.str().find("daemon_start") == std::string::npos);

    testsupport::TempDir out;
    testsupport::WriteFile(dir.Join("lockd.toml"),
                           "audit_log = \"" + log + "\"\nstate_dir = \"" + dir.path() +
                               "\"\ndatabase = \"" + dir.Join("none.lockdb") +
                               "\"\ntrust_dir = \"" + dir.Join("trust") + "\"\n");
    lockctl::ExportArgs exp;
    exp.out = out.Join("bundle");
    exp.config = dir.Join("lockd.toml");
    exp.config_given = true;
    exp.since = since;
    exp.collect_posture = false;
    exp.ask_daemon = false;
    std::ostringstream eo, ee;
    CHECK_MESSAGE(lockctl::RunExport(exp, eo, ee) == 0, ee.str());
    CHECK(ee.str().find("--since") == std::string::npos);
  }
  for (const char* bad : {"30w", "yesterday"}) {
    CAPTURE(bad);
    lockctl::LogShowArgs show;
    show.input.files = {log};
    show.since = bad;
    std::ostringstream so, se;
    CHECK(lockctl::RunLogShow(show, so, se) == 2);
    CHECK(se.str().find(lockctl::kSinceForms) != std::string::npos);
    lockctl::ExportArgs exp;
    exp.out = dir.Join("never");
    exp.since = bad;
    std::ostringstream eo, ee;
    CHECK(lockctl::RunExport(exp, eo, ee) == 2);
    CHECK(ee.str().find(lockctl::kSinceForms) != std::string::npos);
  }
}
