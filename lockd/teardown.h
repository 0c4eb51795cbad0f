#pragma once
// TeardownSteps: the daemon's teardown as the mirror of its startup. Each startup step that
// leaves something running pushes the step that undoes it; whatever way RunDaemon leaves (a
// failed later step or a clean stop), the steps run once, in reverse order of their pushes.
// A startup that fails at step N thus undoes exactly steps N-1 .. 1, in the same order as a
// clean stop would.
//
// Not thread-safe: the daemon's main thread only.

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lockd {

class TeardownSteps {
 public:
  TeardownSteps() = default;
  TeardownSteps(const TeardownSteps&) = delete;
  TeardownSteps& operator=(const TeardownSteps&) = delete;
  ~TeardownSteps() { RunAll(); }

  // Adds the step that undoes what was just started; `name` says what it does (for tests and
  // for reading the code).
  void Push(std::string name, std::function<void()> undo) {
    steps_.push_back({std::move(name), std::move(undo)});
  }
  // Runs every step not run yet, the last pushed first. Idempotent.
  void RunAll() {
    while (!steps_.empty()) {
      auto step = std::move(steps_.back());
      steps_.pop_back();
      if (step.undo) step.undo();
    }
  }
  // The names of the pending steps, in the order they would run.
  std::vector<std::string> Pending() const {
    std::vector<std::string> names;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) names.push_back(it->name);
    return names;
  }

 private:
  struct Step {
    std::string name;
    std::function<void()> undo;
  };
  std::vector<Step> steps_;
};

}  // namespace lockd
