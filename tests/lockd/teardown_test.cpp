// lockd/teardown.h: undo steps run once, last pushed first, also when the scope ends early.
#include "lockd/teardown.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("teardown steps run in reverse order of startup, once") {
  std::vector<std::string> ran;
  {
    lockd::TeardownSteps t;
    t.Push("workers drained", [&] { ran.push_back("workers"); });
    t.Push("marks removed", [&] { ran.push_back("marks"); });
    t.Push("control socket closed", [&] { ran.push_back("control"); });
    CHECK(t.Pending() ==
          std::vector<std::string>{"control socket closed", "marks removed", "workers drained"});
    t.RunAll();
    CHECK(ran == std::vector<std::string>{"control", "marks", "workers"});
    CHECK(t.Pending().empty());
  }
  CHECK(ran.size() == 3);  // not again at the end of the scope
}

TEST_CASE("a startup that fails part-way undoes only what it started, when the scope ends") {
  std::vector<std::string> ran;
  auto start = [&](bool fail_at_marks) {
    lockd::TeardownSteps t;
    t.Push("workers drained", [&] { ran.push_back("workers"); });
    if (fail_at_marks) return 1;
    t.Push("marks removed", [&] { ran.push_back("marks"); });
    return 0;
  };
  CHECK(start(true) == 1);
  CHECK(ran == std::vector<std::string>{"workers"});
  ran.clear();
  CHECK(start(false) == 0);
  CHECK(ran == std::vector<std::string>{"marks", "workers"});
}
