#include "lockd/watch_policy.h"

#include <doctest/doctest.h>

using lockd::ChooseWatch;
using lockd::WatchList;

namespace {
hashdb::Policy Signed(std::vector<std::string> watch, hashdb::Mode mode = hashdb::Mode::kEnforce) {
  hashdb::Policy p;
  p.mode = mode;
  p.watch = std::move(watch);
  return p;
}
using Paths = std::vector<std::string>;
}  // namespace

TEST_CASE("without a watch key the signed watch is used, empty meaning every filesystem") {
  auto all = ChooseWatch(Signed({}), std::nullopt, "/etc/lockd/lockd.toml");
  REQUIRE(all.ok());
  CHECK_FALSE(all->watch.has_value());
  CHECK(all->source == "signed policy");
  auto some = ChooseWatch(Signed({"/opt/atm", "/srv"}), std::nullopt, "lockd.toml");
  REQUIRE(some.ok());
  CHECK(some->watch == WatchList(Paths{"/opt/atm", "/srv"}));
}

TEST_CASE("enforcing, lockd.toml cannot narrow a signed watch of every local filesystem") {
  for (const Paths& config : {Paths{"/nonexistent"}, Paths{"/"}, Paths{"/srv", "/opt"}}) {
    auto r = ChooseWatch(Signed({}), config, "/etc/lockd/lockd.toml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("/etc/lockd/lockd.toml: watch: ") == 0);
    CHECK(r.error().message.find("every local filesystem") != std::string::npos);
  }
}

TEST_CASE("enforcing, lockd.toml's watch must cover every signed path") {
  const auto policy = Signed({"/opt/atm", "/srv/data"});
  SUBCASE("the same list") {
    auto r = ChooseWatch(policy, Paths{"/srv/data", "/opt/atm"}, "c.toml");
    REQUIRE(r.ok());
    CHECK(r->watch == WatchList(Paths{"/srv/data", "/opt/atm"}));
    CHECK(r->source == "c.toml");
  }
  SUBCASE("wider: parents and extra paths") {
    auto r = ChooseWatch(policy, Paths{"/opt", "/srv/data", "/home"}, "c.toml");
    REQUIRE(r.ok());
    CHECK(r->watch == WatchList(Paths{"/opt", "/srv/data", "/home"}));
    CHECK(ChooseWatch(policy, Paths{"/"}, "c.toml").ok());
  }
  SUBCASE("a signed path left out") {
    auto r = ChooseWatch(policy, Paths{"/opt/atm"}, "c.toml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("c.toml: watch: [/opt/atm] does not cover the signed watch path "
                                 "/srv/data") == 0);
  }
  SUBCASE("narrower, a sibling with a common prefix, an empty place") {
    CHECK_FALSE(ChooseWatch(policy, Paths{"/opt/atm/bin", "/srv/data"}, "c.toml").ok());
    CHECK_FALSE(ChooseWatch(policy, Paths{"/opt/at", "/srv/data"}, "c.toml").ok());
    CHECK_FALSE(ChooseWatch(policy, Paths{"/nonexistent"}, "c.toml").ok());
  }
}

TEST_CASE("in audit mode lockd.toml's watch is used as given") {
  auto r = ChooseWatch(Signed({}, hashdb::Mode::kAudit), Paths{"/srv"}, "c.toml");
  REQUIRE(r.ok());
  CHECK(r->watch == WatchList(Paths{"/srv"}));
  auto r2 = ChooseWatch(Signed({"/opt"}, hashdb::Mode::kAudit), Paths{"/srv"}, "c.toml");
  REQUIRE(r2.ok());
  CHECK(r2->watch == WatchList(Paths{"/srv"}));
}
