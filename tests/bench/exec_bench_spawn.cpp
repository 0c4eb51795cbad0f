// Spawn-and-wait timer for tests/bench/exec_bench.sh (not a test).
//   exec_bench_spawn N FILE...   spawns each FILE in turn, N times over, waits for it, and
//                                prints "median_ns mean_ns p90_ns count failures".
// posix_spawn (vfork-like) keeps the parent's cost small and constant, so differences come
// from the exec path itself.
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern char** environ;

static long long NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: exec_bench_spawn N FILE...\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  std::vector<long long> samples;
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    for (int f = 2; f < argc; ++f) {
      char* args[] = {argv[f], nullptr};
      const long long start = NowNs();
      pid_t pid = 0;
      int status = 0;
      if (posix_spawn(&pid, argv[f], nullptr, nullptr, args, environ) != 0 ||
          waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ++failures;
        continue;
      }
      samples.push_back(NowNs() - start);
    }
  }
  if (samples.empty()) {
    std::printf("0 0 0 0 %d\n", failures);
    return 1;
  }
  std::sort(samples.begin(), samples.end());
  long long sum = 0;
  for (long long s : samples) sum += s;
  std::printf("%lld %lld %lld %zu %d\n", samples[samples.size() / 2],
              sum / static_cast<long long>(samples.size()), samples[samples.size() * 9 / 10],
              samples.size(), failures);
  return failures == 0 ? 0 : 1;
}
