#include "lockd/control/server.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "hashdb/authorization.h"
#include "lockd/control/socket.h"
#include "tests/support/db_fixture.h"

using lockd::ControlHandlers;
using lockd::ControlReply;
using lockd::ControlServerThread;

namespace {
ControlHandlers Handlers(int& reloads) {
  ControlHandlers h;
  h.status = [](bool json) { return json ? std::string("{}\n") : std::string("mode: x\n"); };
  h.reload = [&reloads]() {
    ++reloads;
    return ControlReply{ControlReply::Code::kRefused, "lower generation\n"};
  };
  return h;
}
}  // namespace

TEST_CASE("dispatch: root only, known requests only") {
  int reloads = 0;
  auto h = Handlers(reloads);
  CHECK(ControlServerThread::Handle("status", 1000, h).code == ControlReply::Code::kError);
  CHECK(ControlServerThread::Handle("reload", 1000, h).code == ControlReply::Code::kError);
  CHECK(reloads == 0);
  CHECK(ControlServerThread::Handle("status", 0, h).body == "mode: x\n");
  CHECK(ControlServerThread::Handle("status --json", 0, h).body == "{}\n");
  CHECK(ControlServerThread::Handle("reload", 0, h).code == ControlReply::Code::kRefused);
  CHECK(reloads == 1);
  CHECK(ControlServerThread::Handle("rm -rf /", 0, h).code == ControlReply::Code::kError);
  CHECK(ControlServerThread::Encode({ControlReply::Code::kRefused, "why\n"}) == "refused\nwhy\n");
}

TEST_CASE("a real socket round trip; socket file is 0600 and removed at the end") {
  testsupport::TempDir dir;
  const std::string path = dir.Join("run/ctl.sock");
  int reloads = 0;
  {
    auto server = lockd::os::ControlServer::Listen(path);
    REQUIRE_MESSAGE(server.ok(), (server.ok() ? "" : server.error().message));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    ControlServerThread thread(std::move(*server), Handlers(reloads));
    auto reply = lockd::os::ControlRequest(path, "status", 5000);
    REQUIRE(reply.ok());
    if (::geteuid() == 0) {
      CHECK(*reply == "ok\nmode: x\n");
      auto r2 = lockd::os::ControlRequest(path, "reload", 5000);
      REQUIRE(r2.ok());
      CHECK(*r2 == "refused\nlower generation\n");
      CHECK(reloads == 1);
    } else {
      CHECK(*reply == "error\npermission denied: root only\n");
    }
  }
  struct stat st {};
  CHECK(::stat(path.c_str(), &st) != 0);
  auto none = lockd::os::ControlRequest(path, "status", 1000);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("is lockd running?") != std::string::npos);
}

TEST_CASE("Listen refuses to replace something that is not a socket") {
  testsupport::TempDir dir;
  testsupport::WriteFile(dir.Join("ctl.sock"), "precious");
  auto server = lockd::os::ControlServer::Listen(dir.Join("ctl.sock"));
  REQUIRE_FALSE(server.ok());
  CHECK(server.error().message.find("not a socket") != std::string::npos);
}

namespace {
struct Recorded {
  std::vector<std::string> calls;
};
ControlHandlers ActHandlers(Recorded& rec) {
  ControlHandlers h;
  h.status = [](bool) { return std::string("s\n"); };
  h.reload = [] { return ControlReply{}; };
  h.challenge = [&rec](hashdb::Act act, const std::string& argument) {
    rec.calls.push_back("challenge " + std::string(hashdb::ActName(act)) + " [" + argument + "]");
    return ControlReply{ControlReply::Code::kOk, "lockd-challenge-v1\n"};
  };
  h.maintenance_status = [](bool json) { return std::string(json ? "{}\n" : "inactive\n"); };
  h.act = [&rec](const lockd::ActRequest& r) {
    rec.calls.push_back(std::string(hashdb::ActName(r.act)) + " [" + r.operand + "] " +
                        std::to_string(r.authorization.size()));
    return ControlReply{ControlReply::Code::kOk, "done\n"};
  };
  return h;
}
const std::string kHex(64, 'a');
}  // namespace

TEST_CASE("dispatch: challenges are validated per act before the handler") {
  Recorded rec;
  auto h = ActHandlers(rec);
  using C = ControlReply::Code;
  CHECK(ControlServerThread::Handle("challenge maintenance_start 30", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("challenge maintenance_start 1440", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("challenge maintenance_start 1441", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_start 0", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_start 030", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_start -5", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_start", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_abort", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("challenge maintenance_abort x", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge db_install " + kHex, 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("challenge db_install " + std::string(64, 'A'), 0, h).code ==
        C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_finish abc", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge trust_add " + kHex, 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("challenge trust_retire " + kHex + "0", 0, h).code ==
        C::kError);
  CHECK(ControlServerThread::Handle("challenge leave_enforce audit", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge open_sesame", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_start 5 6", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("challenge maintenance_start 5", 1000, h).code == C::kError);
  REQUIRE(rec.calls.size() == 5);
  CHECK(rec.calls[0] == "challenge maintenance_start [30]");
  CHECK(rec.calls[2] == "challenge maintenance_abort []");
}

TEST_CASE("dispatch: authorized commands need their operand and a body") {
  Recorded rec;
  auto h = ActHandlers(rec);
  using C = ControlReply::Code;
  CHECK(ControlServerThread::Handle("maintenance-start\nAUTH\n", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("maintenance-start", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("maintenance-start\n\n", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("maintenance-start 30\nAUTH", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("maintenance-abort\nAUTH", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("maintenance-finish /s/db\nAUTH", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("maintenance-finish s/db\nAUTH", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("maintenance-finish\nAUTH", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("db-install /a b\nAUTH", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("db-install /a\tb\nAUTH", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("db-install /x.lockdb\nAUTH", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("trust-add /k.pem\nAUTH", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("trust-retire " + kHex + "\nAUTH", 0, h).code == C::kOk);
  CHECK(ControlServerThread::Handle("trust-retire xyz\nAUTH", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("trust-retire " + kHex + "\nAUTH", 1000, h).code == C::kError);
  CHECK(ControlServerThread::Handle("maintenance-status", 0, h).body == "inactive\n");
  CHECK(ControlServerThread::Handle("maintenance-status --json", 0, h).body == "{}\n");
  CHECK(ControlServerThread::Handle("maintenance-status --xml", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("status\nbody", 0, h).code == C::kError);
  CHECK(ControlServerThread::Handle("", 0, h).code == C::kError);
  REQUIRE(rec.calls.size() == 6);
  CHECK(rec.calls[0] == "maintenance_start [] 5");
  CHECK(rec.calls[2] == "maintenance_finish [/s/db] 4");
  CHECK(rec.calls[5] == "trust_retire [" + kHex + "] 4");
}

TEST_CASE("dispatch: a command without a handler is an error, not a crash") {
  int reloads = 0;
  auto h = Handlers(reloads);  // status and reload only
  CHECK(ControlServerThread::Handle("challenge maintenance_abort", 0, h).code ==
        ControlReply::Code::kError);
  CHECK(ControlServerThread::Handle("maintenance-abort\nAUTH", 0, h).code ==
        ControlReply::Code::kError);
  CHECK(ControlServerThread::Handle("maintenance-status", 0, h).code == ControlReply::Code::kError);
}

TEST_CASE("a multi-line request crosses the socket whole; 16 KiB is the limit") {
  if (::geteuid() != 0) return;
  testsupport::TempDir dir;
  const std::string path = dir.Join("ctl.sock");
  auto server = lockd::os::ControlServer::Listen(path);
  REQUIRE(server.ok());
  Recorded rec;
  ControlServerThread thread(std::move(*server), ActHandlers(rec));
  const std::string body(12000, 'x');
  auto reply = lockd::os::ControlRequest(path, "maintenance-abort\n" + body, 5000);
  REQUIRE(reply.ok());
  CHECK(*reply == "ok\ndone\n");
  REQUIRE(rec.calls.size() == 1);
  CHECK(rec.calls[0] == "maintenance_abort [] 12000");
  auto too_long = lockd::os::ControlRequest(path, "maintenance-abort\n" + std::string(17000, 'x'));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().message.find("longer than") != std::string::npos);
  auto status = lockd::os::ControlRequest(path, "status", 5000);
  REQUIRE(status.ok());
  CHECK(*status == "ok\ns\n");
}
