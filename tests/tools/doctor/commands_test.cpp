// tools/doctor/commands.h: rendering of the posture report (text and the JSON contract) with
// hostile mount points, and the usage errors of RunDoctor.
#include "tools/doctor/commands.h"

#include <doctest/doctest.h>

#include <sstream>

#include "audit/json_parse.h"
#include "tools/commands.h"

namespace {

lockd::PostureFacts HostileFacts() {
  lockd::PostureFacts f;
  f.kernel_release = "6.18.0-test";
  f.fanotify_permission = {lockd::os::ProbeResult::State::kAvailable, "ok"};
  f.fanotify_filesystem_mark = {lockd::os::ProbeResult::State::kAvailable, "ok"};
  f.memfd_noexec = lockd::SettingFact::Value(0);
  f.ptrace_scope = lockd::SettingFact::Value(3);
  f.modules_disabled = lockd::SettingFact::Value(1);
  f.kexec_load_disabled = lockd::SettingFact::Value(1);
  f.unprivileged_bpf_disabled = lockd::SettingFact::Value(1);
  f.max_user_namespaces = lockd::SettingFact::Value(0);
  f.efi = true;
  f.secure_boot = lockd::SettingFact::Value(1);
  f.mount_notifications = {lockd::os::ProbeResult::State::kAvailable, "ok"};
  lockd::os::MountEntry m;
  m.mount_point = "/mnt/a\nfail fake line\xff";
  m.options = "rw";
  m.fs_type = "ext4";
  f.mounts.push_back(m);
  return f;
}

}  // namespace

TEST_CASE("doctor text: one aligned line per check, hostile paths escaped") {
  lockd::PostureFacts f = HostileFacts();
  auto checks = lockd::EvaluatePosture(f);
  std::string text = lockctl::DoctorText(f, checks);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  CHECK(line == "lockd posture, kernel 6.18.0-test");
  std::size_t check_lines = 0, column = std::string::npos;
  while (std::getline(in, line)) {
    if (line.rfind("summary: ", 0) == 0) {
      CHECK(line == "summary: 11 ok, 2 warn, 1 fail");
      continue;
    }
    if (line.rfind("       ", 0) == 0) {  // an item line: the mount, or a blind spot
      const bool blind_spot =
          line.find("memfd") != std::string::npos || line.find("inline code") != std::string::npos;
      CHECK((blind_spot || line.find("/mnt/a\\x0afail fake line\\xff") != std::string::npos));
      continue;
    }
    ++check_lines;
    // The reason starts in the same column on every check line.
    std::size_t at = line.find("  ", 5);
    while (at < line.size() && line[at] == ' ') ++at;
    if (column == std::string::npos) column = at;
    CHECK(at == column);
  }
  CHECK(check_lines == checks.size());
}

TEST_CASE("doctor JSON: strict JSON, fixed members, exact bytes of hostile paths") {
  lockd::PostureFacts f = HostileFacts();
  auto checks = lockd::EvaluatePosture(f);
  std::string json = lockctl::DoctorJson(f, checks);
  REQUIRE(json.back() == '\n');
  auto v = lockd::audit::ParseJson(std::string_view(json).substr(0, json.size() - 1));
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  CHECK(v->Find("schema")->string == "lockd-doctor/1");
  CHECK(v->Find("kernel")->string == "6.18.0-test");
  CHECK(v->Find("status")->string == "fail");
  CHECK(v->Find("database")->type == lockd::audit::JsonValue::Type::kNull);
  CHECK(v->Find("summary")->Find("fail")->uint_value == 1);
  const auto& arr = v->Find("checks")->array;
  REQUIRE(arr.size() == checks.size());
  for (std::size_t i = 0; i < arr.size(); ++i) {
    CHECK(arr[i].Find("id")->string == checks[i].id);
    CHECK(arr[i].Find("status")->string == lockd::CheckStatusName(checks[i].status));
    CHECK(arr[i].Find("why")->string == checks[i].why);
  }
  const auto* writable = &arr[10];
  REQUIRE(writable->Find("id")->string == "writable_exec_mounts");
  const auto& items = writable->Find("items")->array;
  REQUIRE(items.size() == 1);
  CHECK(lockd::audit::FieldBytes(items[0], "path") == "/mnt/a\nfail fake line\xff");
}

TEST_CASE("doctor usage errors exit 2") {
  std::ostringstream out, err;
  lockctl::DoctorOptions o;
  o.collect.probe_fanotify = false;
  o.db_path = "/nonexistent.lockdb";
  CHECK(lockctl::RunDoctor(o, out, err) == lockctl::kExitUsage);
  CHECK(err.str().find("--db and --trust go together") != std::string::npos);
  o.trust_dir = "/nonexistent-trust-dir";
  CHECK(lockctl::RunDoctor(o, out, err) == lockctl::kExitUsage);
  CHECK(out.str().empty());
}
