#include "lockd/worker_pool.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

TEST_CASE(
    "WorkerPool: OldestRunningSince shows a job that does not return, and only while it runs") {
  lockd::WorkerPool pool(1, 1);
  CHECK_FALSE(pool.OldestRunningSince().has_value());
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool release = false;
  const auto before = std::chrono::steady_clock::now();
  pool.Post(lockd::Lane::kSmall, [&] {
    std::unique_lock lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return started; }));
  }
  auto since = pool.OldestRunningSince();
  REQUIRE(since.has_value());
  CHECK(*since >= before);
  CHECK(*since <= std::chrono::steady_clock::now());
  {
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  }
  // Idle again once the job returned.
  bool idle = false;
  for (int i = 0; i < 5000 && !idle; ++i) {
    idle = !pool.OldestRunningSince().has_value();
    if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(idle);
  pool.Shutdown();
}
