#include "lockd/status_report.h"

#include <doctest/doctest.h>

#include "audit/json_parse.h"

namespace {
lockd::StatusSnapshot Sample() {
  lockd::StatusSnapshot s;
  s.version = "0.1.0";
  s.mode = "enforce";
  s.db_generation = 7;
  s.db_path = "/var/lib/lockd/allowlist.lockdb";
  s.db_signer = std::string(64, 'a');
  s.db_entries = 1234;
  s.uptime_seconds = 60;
  s.allowed = 10;
  s.denied = 2;
  s.cache_hits = 8;
  s.cache_misses = 4;
  s.marked.push_back({66, "/mnt/we\"ird\n", "tmpfs", lockd::os::MarkKind::kFilesystem});
  s.marked.push_back({67, "/x", "tmpfs", lockd::os::MarkKind::kFilesystem, false, "/proc/42/cwd"});
  s.mount_discovery = "fanotify mount notifications (FAN_MNT_ATTACH) in 2 of 2 mount namespace(s)";
  s.overlay_gaps.push_back("overlay /ovl: upper layer /u not covered (no mark)");
  lockd::DenialSummary d;
  d.pid = 99;
  d.path = std::string("/tmp/\xff\nevil", 11);
  d.exe = "/bin/bash";
  s.last_denials.push_back(d);
  return s;
}
}  // namespace

TEST_CASE("text status has every field on its own line, hostile names escaped") {
  const std::string t = lockd::RenderStatusText(Sample());
  CHECK(t.find("mode: enforce\n") != std::string::npos);
  CHECK(t.find("generation: 7\n") != std::string::npos);
  CHECK(t.find("decisions: 10 allowed, 2 denied, 0 would-deny\n") != std::string::npos);
  CHECK(t.find("cache: 8 hits, 4 misses") != std::string::npos);
  CHECK(t.find("/mnt/we\\\"ird\\x0a (tmpfs, filesystem mark)") != std::string::npos);
  CHECK(t.find("path=\"/tmp/\\xff\\x0aevil\"") != std::string::npos);
  CHECK(t.find("/x (tmpfs, filesystem mark, through /proc/42/cwd)\n") != std::string::npos);
  CHECK(t.find("mount discovery: fanotify mount notifications (FAN_MNT_ATTACH) in 2") !=
        std::string::npos);
  CHECK(t.find("overlay gaps: 1\n  overlay /ovl: upper layer /u not covered (no mark)\n") !=
        std::string::npos);
}

TEST_CASE("JSON status is one valid JSON object") {
  const std::string j = lockd::RenderStatusJson(Sample());
  CHECK(j.find('\n') == j.size() - 1);
  auto parsed = lockd::audit::ParseJson(std::string_view(j).substr(0, j.size() - 1));
  CHECK_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error().message));
  CHECK(j.find("\"mode\":\"enforce\"") != std::string::npos);
  CHECK(j.find("\"generation\":7") != std::string::npos);
  CHECK(j.find("\"denied\":2") != std::string::npos);
  CHECK(j.find("\"mount_point\":\"/mnt/we\\\"ird\\n\"") != std::string::npos);
  CHECK(j.find("\"digest\":null") != std::string::npos);
  CHECK(j.find("\"via\":\"/proc/42/cwd\"") != std::string::npos);
  CHECK(j.find("\"overlay_gaps\":[{\"gap\":\"overlay /ovl: upper layer /u not covered (no "
               "mark)\"}]") != std::string::npos);
  CHECK(j.find("\"mount_discovery\":\"fanotify mount notifications") != std::string::npos);
  // Invalid UTF-8 in a path: readable string plus the exact bytes in hex.
  CHECK(j.find("\"path_hex\":\"2f746d702fff0a6576696c\"") != std::string::npos);
  lockd::StatusSnapshot empty;
  const std::string e = lockd::RenderStatusJson(empty);
  CHECK(e.find("\"marked_filesystems\":[]") != std::string::npos);
  CHECK(e.find("\"last_denials\":[]") != std::string::npos);
  CHECK(e.find("\"overlay_gaps\":[]") != std::string::npos);
  CHECK(lockd::audit::ParseJson(std::string_view(e).substr(0, e.size() - 1)).ok());
}
