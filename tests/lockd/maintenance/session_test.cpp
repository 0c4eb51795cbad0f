// Who belongs to the maintenance session (issue 12 item 4): the origin taken from the
// requester, and the attribution of a writer by login session and parent chain.
#include "lockd/maintenance/session.h"

#include <doctest/doctest.h>

#include "tests/support/fake_procs.h"

namespace m = lockd::maintenance;
using m::By;

namespace {

// init(1) -> sshd(50) -> bash(100, the engineer's shell) -> lockctl(110)
//                                                        -> make(120) -> cp(121)
// init(1) -> kiosk(200, another user's app, started before the window) -> helper(201)
// lockd(300), started by init.
testsupport::FakeProcs Tree() {
  testsupport::FakeProcs p;
  p.Add(1, 0, 1).Add(50, 1, 10).Add(100, 50, 1000).Add(110, 100, 1100);
  p.Add(120, 100, 1200).Add(121, 120, 1210);
  p.Add(200, 1, 900).Add(201, 200, 1300);
  p.Add(300, 1, 20);
  return p;
}

}  // namespace

TEST_CASE("origin: the process that ran lockctl, unless that is init or lockd") {
  auto p = Tree();
  auto o = m::OriginOf(110, 300, p);
  REQUIRE(o.ok());
  CHECK(o->requester == 110);
  CHECK(o->origin == 100);
  CHECK(o->origin_start == 1000);
  CHECK_FALSE(o->login_session.has_value());
  // lockctl started by init (a service): only lockctl itself, never all of init's tree.
  p.Add(111, 1, 1110);
  CHECK(m::OriginOf(111, 300, p)->origin == 111);
  // Run by lockd itself (never in practice): not lockd's own tree.
  p.Add(401, 300, 1500);
  CHECK(m::OriginOf(401, 300, p)->origin == 401);
  // Gone before lockd looked: no session can be taken from it.
  CHECK(m::OriginOf(999, 300, p).error().code == hashdb::ErrorCode::kNotFound);
}

TEST_CASE("attribution: descendants of the origin, by pid and start time") {
  auto p = Tree();
  const m::SessionOrigin o = *m::OriginOf(110, 300, p);
  CHECK(m::Attribute(121, o, p) == By::kSession);  // cp under make under the shell
  CHECK(m::Attribute(100, o, p) == By::kSession);  // the shell itself
  CHECK(m::Attribute(110, o, p) == By::kSession);
  CHECK(m::Attribute(201, o, p) == By::kOther);    // another user's process
  CHECK(m::Attribute(50, o, p) == By::kOther);     // the shell's parent is not the session
  CHECK(m::Attribute(300, o, p) == By::kOther);    // lockd
  CHECK(m::Attribute(777, o, p) == By::kUnknown);  // exited before lockd looked
  // The shell exited and its pid was reused by another process: its children are not the
  // session (the start time differs).
  p.Add(100, 1, 5000).Add(130, 100, 5100);
  CHECK(m::Attribute(130, o, p) == By::kOther);
  // A parent gone in the middle of the walk: undecided, never the session.
  p.Add(140, 141, 6000);
  CHECK(m::Attribute(140, o, p) == By::kUnknown);
  // A loop in a forged tree ends.
  p.Add(150, 151, 7000).Add(151, 150, 7000);
  CHECK(m::Attribute(150, o, p) == By::kOther);
}

TEST_CASE("attribution: the login session, across setsid, sudo and double forks") {
  testsupport::FakeProcs p;
  // The engineer's login 7: bash(100) ran `sudo lockctl` (sudo 105 -> lockctl 110); later a
  // `sudo cp` (sudo 130 -> cp 131) and a daemonized helper reparented to init (160).
  p.Add(1, 0, 1).Add(100, 1, 1000, 7).Add(105, 100, 1050, 7).Add(110, 105, 1100, 7);
  p.Add(130, 100, 1300, 7).Add(131, 130, 1310, 7).Add(160, 1, 1600, 7);
  // Another login (8), and a service without one.
  p.Add(200, 1, 900, 8).Add(201, 200, 1400, 8).Add(300, 1, 20);
  const m::SessionOrigin o = *m::OriginOf(110, 300, p);
  CHECK(o.login_session == 7u);
  CHECK(o.origin == 105);  // sudo: it exits with lockctl; the login session carries on
  p.Remove(105);
  p.Remove(110);
  CHECK(m::Attribute(131, o, p) == By::kSession);
  CHECK(m::Attribute(160, o, p) == By::kSession);
  CHECK(m::Attribute(201, o, p) == By::kOther);
  CHECK(m::Attribute(300, o, p) == By::kOther);
}

TEST_CASE("origin lines of the window file") {
  m::SessionOrigin o{110, 100, 1000, 7};
  const std::string text = m::SerializeOrigin(o);
  CHECK(text == "requester: 110\norigin: 100 1000\nlogin_session: 7\n");
  m::SessionOrigin back;
  REQUIRE(m::ParseOriginLine("requester", "110", back).ok());
  REQUIRE(m::ParseOriginLine("origin", "100 1000", back).ok());
  REQUIRE(m::ParseOriginLine("login_session", "7", back).ok());
  CHECK(back.origin_start == 1000);
  CHECK(back.login_session == 7u);
  REQUIRE(m::ParseOriginLine("login_session", "-", back).ok());
  CHECK_FALSE(back.login_session.has_value());
  CHECK_FALSE(m::ParseOriginLine("origin", "100", back).ok());
  CHECK_FALSE(m::ParseOriginLine("login_session", "4294967295", back).ok());
  CHECK_FALSE(m::ParseOriginLine("requester", "-1", back).ok());
  CHECK_FALSE(m::ParseOriginLine("color", "blue", back).ok());
  CHECK(m::ByFromName("updater") == By::kUpdater);
  CHECK_FALSE(m::ByFromName("root").has_value());
}
