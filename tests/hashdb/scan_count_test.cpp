// hashdb/scan_count.h and the scanner's reporter (hashdb/scan_progress.h): the first pass
// counts what the scan examines, and a reporter hears the count, the progress and the end.
#include "hashdb/scan_count.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "hashdb/scanner.h"
#include "tests/support/db_fixture.h"

namespace {

// Files the scan examines: 4 regular files (2 code, 2 not), under a root with a symlink to
// /usr/bin (not followed), a FIFO (never opened, not counted) and an excluded directory.
struct CountTree {
  testsupport::TempDir dir;
  std::string root = dir.Join("root");
  CountTree() {
    REQUIRE(::mkdir(root.c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/bin").c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/bin/deeper").c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/skip").c_str(), 0755) == 0);
    testsupport::WriteFile(root + "/bin/a.sh", "#!/bin/sh\necho a\n", 0755);
    testsupport::WriteFile(root + "/bin/deeper/b.sh", "#!/bin/sh\necho b\n", 0755);
    testsupport::WriteFile(root + "/bin/readme.txt", "text\n");
    testsupport::WriteFile(root + "/data.txt", "text\n");
    testsupport::WriteFile(root + "/skip/c.sh", "#!/bin/sh\necho c\n", 0755);
    REQUIRE(::symlink("/usr/bin", (root + "/usrbin").c_str()) == 0);
    REQUIRE(::mkfifo((root + "/bin/fifo").c_str(), 0644) == 0);
  }
};

class RecordingReporter : public hashdb::ScanReporter {
 public:
  void Counted(std::uint64_t files, bool done) override {
    Enter();
    events.push_back(done ? "counted" : "counting");
    if (done) counted = files;
    Leave();
  }
  void Progress(const hashdb::ScanProgress& p) override {
    Enter();
    if (events.empty() || events.back() != "progress") events.push_back("progress");
    if (p.files_total != counted) total_mismatch = true;
    Leave();
  }
  void Finished(const hashdb::ScanProgress& p) override {
    Enter();
    events.push_back("finished");
    final_progress = p;
    Leave();
  }
  void Enter() {
    if (inside.fetch_add(1) != 0) overlap = true;
  }
  void Leave() { inside.fetch_sub(1); }

  std::vector<std::string> events;
  std::uint64_t counted = 0;
  hashdb::ScanProgress final_progress;
  bool total_mismatch = false;
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
};

}  // namespace

TEST_CASE("the first pass counts the regular files the scan examines, by the scan's rules") {
  CountTree t;
  hashdb::CountOptions count;
  count.roots = {t.root};
  count.excludes = {"*/skip"};
  CHECK(hashdb::CountScanFiles(count) == 4);

  hashdb::ScanOptions scan;
  scan.roots = {t.root};
  scan.excludes = {"*/skip"};
  auto r = hashdb::Scan(scan);
  REQUIRE(r.ok());
  CHECK(r->report.files_examined == 4);

  count.excludes = {};
  CHECK(hashdb::CountScanFiles(count) == 5);
  // Excludes match the recorded path, after the strip prefix, as in the scan.
  count.strip = t.dir.path();
  count.excludes = {"/root/bin/*"};
  CHECK(hashdb::CountScanFiles(count) == 2);
  // A root that is a symlink or missing counts nothing and does not fail.
  count.roots = {t.root + "/usrbin", t.root + "/missing"};
  count.strip.clear();
  count.excludes.clear();
  CHECK(hashdb::CountScanFiles(count) == 0);
}

TEST_CASE("a scan with count_first reports the count, then progress, then the end, one at a time") {
  CountTree t;
  RecordingReporter reporter;
  hashdb::ScanOptions scan;
  scan.roots = {t.root, "/usr/bin"};
  scan.count_first = true;
  scan.reporter = &reporter;
  scan.progress_interval_ms = 10;
  auto r = hashdb::Scan(scan);
  REQUIRE(r.ok());
  CHECK_FALSE(reporter.overlap.load());
  CHECK_FALSE(reporter.total_mismatch);
  REQUIRE(reporter.events.size() >= 2);
  // "counting" may come first on a slow machine; then "counted", any progress, "finished".
  std::size_t i = reporter.events[0] == "counting" ? 1 : 0;
  while (i < reporter.events.size() && reporter.events[i] == "counting") ++i;
  REQUIRE(i < reporter.events.size());
  CHECK(reporter.events[i] == "counted");
  CHECK(reporter.events.back() == "finished");
  CHECK(reporter.counted > 100);
  CHECK(reporter.final_progress.files_total == reporter.counted);
  CHECK(reporter.final_progress.files_examined == r->report.files_examined);
  CHECK(reporter.final_progress.files_recorded == r->report.files_recorded);
  CHECK(reporter.final_progress.bytes_hashed == r->report.bytes_hashed);
  // Nothing changed between the count and the scan: the count is exact.
  CHECK(reporter.counted == r->report.files_examined);
}

TEST_CASE("without count_first the reporter still hears progress and the end, total 0") {
  CountTree t;
  RecordingReporter reporter;
  hashdb::ScanOptions scan;
  scan.roots = {t.root};
  scan.reporter = &reporter;
  auto r = hashdb::Scan(scan);
  REQUIRE(r.ok());
  REQUIRE_FALSE(reporter.events.empty());
  CHECK(reporter.events.front() != "counted");
  CHECK(reporter.events.back() == "finished");
  CHECK(reporter.final_progress.files_total == 0);
  CHECK(reporter.final_progress.files_examined == 5);
}
