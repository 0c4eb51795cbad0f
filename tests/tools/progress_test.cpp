// tools/progress.h: the progress line and JSON lines of `lockctl db build` and `maintenance
// finish`, without a terminal.
#include "tools/progress.h"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "audit/json_parse.h"

namespace {

using lockctl::ProgressMode;

hashdb::ScanProgress Sample() {
  hashdb::ScanProgress p;
  p.directories = 12;
  p.files_examined = 250;
  p.files_recorded = 200;
  p.bytes_hashed = 300'000'000;
  p.skipped = 3;
  p.files_total = 1000;
  p.seconds = 10;
  return p;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::uint64_t Uint(const lockd::audit::JsonValue& v, const char* key) {
  const auto* m = v.Find(key);
  REQUIRE_MESSAGE(m != nullptr, key);
  REQUIRE(m->type == lockd::audit::JsonValue::Type::kUint);
  return m->uint_value;
}

}  // namespace

TEST_CASE("--progress: auto follows the terminal, explicit modes win, others are refused") {
  CHECK(*lockctl::ParseProgressMode("auto", true) == ProgressMode::kTty);
  CHECK(*lockctl::ParseProgressMode("auto", false) == ProgressMode::kNone);
  CHECK(*lockctl::ParseProgressMode("tty", false) == ProgressMode::kTty);
  CHECK(*lockctl::ParseProgressMode("none", true) == ProgressMode::kNone);
  CHECK(*lockctl::ParseProgressMode("json", true) == ProgressMode::kJson);
  auto bad = lockctl::ParseProgressMode("yes", true);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("auto, none, tty or json") != std::string::npos);
}

TEST_CASE("the estimate: files left at the rate so far; none without a count or too early") {
  hashdb::ScanProgress p = Sample();
  REQUIRE(lockctl::EstimateSecondsLeft(p).has_value());
  CHECK(*lockctl::EstimateSecondsLeft(p) == doctest::Approx(30.0));  // 250 in 10 s, 750 left
  p.files_total = 0;
  CHECK_FALSE(lockctl::EstimateSecondsLeft(p).has_value());
  p = Sample();
  p.files_examined = 0;
  CHECK_FALSE(lockctl::EstimateSecondsLeft(p).has_value());
  p = Sample();
  p.seconds = 0.2;
  CHECK_FALSE(lockctl::EstimateSecondsLeft(p).has_value());
  p = Sample();
  p.files_examined = 1200;  // files created since the count
  CHECK(*lockctl::EstimateSecondsLeft(p) == 0.0);
}

TEST_CASE("durations: m:ss, h:mm:ss, and a placeholder") {
  CHECK(lockctl::FormatDuration(7.0) == "0:07");
  CHECK(lockctl::FormatDuration(242.4) == "4:02");
  CHECK(lockctl::FormatDuration(3909.0) == "1:05:09");
  CHECK(lockctl::FormatDuration(std::nullopt) == "--:--");
}

TEST_CASE("the terminal line: files of the count, bytes, rate, skipped, time left") {
  CHECK(lockctl::TtyProgressText("db-build", Sample()) ==
        "db build: 250/1000 files (25%), 300.00 MB at 30.00 MB/s, 3 skipped, 0:30 left");
  hashdb::ScanProgress p = Sample();
  p.files_total = 0;
  p.skipped = 0;
  CHECK(lockctl::TtyProgressText("maintenance-rescan", p) ==
        "maintenance rescan: 250 files, 300.00 MB at 30.00 MB/s");
  p = Sample();
  p.files_examined = 1500;  // never over 100%
  CHECK(lockctl::TtyProgressText("db-build", p).find("(100%)") != std::string::npos);
  CHECK(lockctl::TtyCountText("db-build", 42, false) == "db build: counting files: 42");
  CHECK(lockctl::TtyCountText("db-build", 42, true) == "db build: counting files: 42 to examine");
}

TEST_CASE("tty mode redraws one line and leaves the terminal clean; none writes nothing") {
  std::ostringstream tty;
  lockctl::StreamProgressReporter reporter(ProgressMode::kTty, "db-build", tty);
  reporter.Counted(10, false);
  reporter.Counted(1000, true);
  reporter.Progress(Sample());
  reporter.Finished(Sample());
  const std::string text = tty.str();
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text ==
        "\r\033[Kdb build: counting files: 10\r\033[Kdb build: counting files: 1000 to examine"
        "\r\033[Kdb build: 250/1000 files (25%), 300.00 MB at 30.00 MB/s, 3 skipped, 0:30 left"
        "\r\033[K");

  std::ostringstream none;
  lockctl::StreamProgressReporter quiet(ProgressMode::kNone, "db-build", none);
  quiet.Counted(10, true);
  quiet.Progress(Sample());
  quiet.Finished(Sample());
  CHECK(none.str().empty());
}

TEST_CASE("json mode: one object per line, integers only, read back by the strict reader") {
  std::ostringstream out;
  lockctl::StreamProgressReporter reporter(ProgressMode::kJson, "maintenance-rescan", out);
  reporter.Counted(400, false);
  reporter.Counted(1000, true);
  hashdb::ScanProgress early = Sample();
  early.seconds = 0.1;
  reporter.Progress(early);
  reporter.Progress(Sample());
  hashdb::ScanProgress last = Sample();
  last.files_examined = 1000;
  last.seconds = 40;
  reporter.Finished(last);
  const auto lines = Lines(out.str());
  REQUIRE(lines.size() == 5);
  std::vector<lockd::audit::JsonValue> values;
  for (const std::string& line : lines) {
    auto v = lockd::audit::ParseJson(line);
    REQUIRE_MESSAGE(v.ok(), line);
    CHECK(v->Find("task")->string == "maintenance-rescan");
    values.push_back(std::move(*v));
  }
  CHECK(values[0].Find("event")->string == "count");
  CHECK(Uint(values[0], "files_counted") == 400);
  CHECK_FALSE(values[0].Find("done")->boolean);
  CHECK(values[1].Find("done")->boolean);
  CHECK(values[2].Find("event")->string == "progress");
  CHECK(values[2].Find("eta_seconds")->type == lockd::audit::JsonValue::Type::kNull);
  CHECK(Uint(values[3], "files_examined") == 250);
  CHECK(Uint(values[3], "files_total") == 1000);
  CHECK(Uint(values[3], "files_recorded") == 200);
  CHECK(Uint(values[3], "bytes_hashed") == 300'000'000);
  CHECK(Uint(values[3], "bytes_per_second") == 30'000'000);
  CHECK(Uint(values[3], "skipped") == 3);
  CHECK(Uint(values[3], "directories") == 12);
  CHECK(Uint(values[3], "elapsed_ms") == 10'000);
  CHECK(Uint(values[3], "eta_seconds") == 30);
  CHECK(values[4].Find("event")->string == "done");
  CHECK(Uint(values[4], "eta_seconds") == 0);
  CHECK(Uint(values[4], "elapsed_ms") == 40'000);
}
