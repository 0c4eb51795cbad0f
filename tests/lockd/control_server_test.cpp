#include "lockd/control_server.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "lockd/os/control_socket.h"
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
