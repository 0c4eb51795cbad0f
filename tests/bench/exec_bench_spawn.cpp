// Spawn-and-wait timer for tests/bench/exec_bench.sh (not a test).
//   exec_bench_spawn N FILE...   spawns each FILE in turn, N times over, waits for it, and
//                                prints "median_ns mean_ns p90_ns count failures".
//   exec_bench_spawn --paired N A B
//                                spawns A and B, N times (in turns A,B then B,A), and prints "median_A_ns median_B_ns
//                                median_ratio p10_ratio p90_ratio count failures", the ratio
//                                being B's time over A's in each pair: two execs a few ms
//                                apart share the machine's state, so the ratio is far less
//                                noisy than medians of separate phases.
// posix_spawn (vfork-like) keeps the parent's cost small and constant, so differences come
// from the exec path itself.
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

static long long NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// One spawn-and-wait of path; its time in ns, or -1 on failure.
static long long SpawnWait(char* path) {
  char* args[] = {path, nullptr};
  const long long start = NowNs();
  pid_t pid = 0;
  int status = 0;
  if (posix_spawn(&pid, path, nullptr, nullptr, args, environ) != 0 ||
      waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return -1;
  }
  return NowNs() - start;
}

static int Paired(int n, char* a, char* b) {
  std::vector<long long> ta, tb;
  std::vector<double> ratios;
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    // The order alternates, so that whatever favours the first or the second exec of a pair
    // cancels out.
    long long x = 0, y = 0;
    if (i % 2 == 0) {
      x = SpawnWait(a);
      y = SpawnWait(b);
    } else {
      y = SpawnWait(b);
      x = SpawnWait(a);
    }
    if (x <= 0 || y <= 0) {
      ++failures;
      continue;
    }
    ta.push_back(x);
    tb.push_back(y);
    ratios.push_back(static_cast<double>(y) / static_cast<double>(x));
  }
  if (ratios.empty()) {
    std::printf("0 0 0 0 0 0 %d\n", failures);
    return 1;
  }
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  std::sort(ratios.begin(), ratios.end());
  const std::size_t k = ratios.size();
  std::printf("%lld %lld %.4f %.4f %.4f %zu %d\n", ta[k / 2], tb[k / 2], ratios[k / 2],
              ratios[k / 10], ratios[k * 9 / 10], k, failures);
  return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--paired") {
    return Paired(std::atoi(argv[2]), argv[3], argv[4]);
  }
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
