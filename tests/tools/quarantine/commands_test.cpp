// tools/quarantine/commands.h: the request lockctl sends is the one lockd's control socket
// parses (lockd/control/server.h), for any bytes in the paths.
#include "tools/quarantine/commands.h"

#include <doctest/doctest.h>

#include <sstream>

#include "lockd/control/server.h"

TEST_CASE("lockctl's quarantine request reads back as the same paths on lockd's side") {
  lockd::ControlHandlers h;
  lockd::QuarantineRequest seen;
  h.quarantine = [&](const lockd::QuarantineRequest& r) {
    seen = r;
    return lockd::ControlReply{lockd::ControlReply::Code::kOk, "{}\n"};
  };
  const std::string path = "/mnt/a dir/evil\nname\xff";
  const std::string out = "/media/usb stick";
  for (const bool remove : {false, true}) {
    const std::string request = lockctl::QuarantineRequestText(path, out, remove);
    CHECK(lockd::ControlServerThread::Handle(request, 0, h).code == lockd::ControlReply::Code::kOk);
    CHECK(seen.path == path);
    CHECK(seen.out_dir == out);
    CHECK(seen.remove == remove);
  }
}

TEST_CASE("lockctl quarantine without a daemon: a clear error, exit 2") {
  lockctl::QuarantineArgs args;
  args.path = "x";
  args.out_dir = "/tmp";
  args.socket = "/nonexistent/lockd.sock";
  std::ostringstream out, err;
  CHECK(lockctl::RunQuarantine(args, out, err) == 2);
  CHECK(err.str().find("/nonexistent/lockd.sock") != std::string::npos);
  CHECK(out.str().empty());
}
