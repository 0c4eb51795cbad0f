// The mount race, measured: how often lockd's mark is in place before an exec from a freshly
// mounted filesystem (tests/bench/mount_race_bench.sh drives it; figures in
// docs/performance.md and docs/threat-model.md). Not a test.
//
//   mount_race_spawn MODE DIR BINARY N [DELAY_US]
//
// Each of N rounds forks a child that mounts a new tmpfs on DIR, writes BINARY's bytes into it
// as DIR/f and execs DIR/f at once (the fastest a program can follow its own mount); the
// round counts as caught when the exec fails with EPERM (lockd's mark was there and denied
// it), as run when it succeeded. MODE:
//   existing  the rounds run in one mount namespace that this program made at start and kept
//             for 3 s before the first round (lockd has found it by then: its scan, and with
//             mount notifications a FAN_MARK_MNTNS mark on it);
//   new       each round first makes a new mount namespace of its own (unshare -m), the way
//             a fresh `unshare -m sh -c 'mount ...; exec ...'` does;
//   userns    as new, in a new user namespace too (what an unprivileged user can do).
// Prints "caught C of N" and the rounds' outcomes.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

bool WriteAll(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// In the child: 0 ran, 100 caught (EPERM), other values: setup failed.
int Round(const std::string& mode, const std::string& dir, const std::string& bytes,
          useconds_t delay_us) {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  if (mode == "userns") {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return 2;
    (void)WriteAll("/proc/self/setgroups", "deny");
    if (!WriteAll("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !WriteAll("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
      return 3;
    }
  } else if (mode == "new") {
    if (::unshare(CLONE_NEWNS) != 0) return 2;
  }
  if (mode != "existing" && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return 4;
  }
  if (::mount("race", dir.c_str(), "tmpfs", 0, "size=16m") != 0) return 5;
  const std::string file = dir + "/f";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  if (fd < 0) return 6;
  if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) return 7;
  ::close(fd);
  if (delay_us > 0) ::usleep(delay_us);
  int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) ::dup2(null, 1);
  char* argv[] = {const_cast<char*>(file.c_str()), nullptr};
  ::execv(file.c_str(), argv);
  return errno == EPERM ? 100 : 8;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s existing|new|userns DIR BINARY N [DELAY_US]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  std::ifstream in(argv[3], std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const int n = std::atoi(argv[4]);
  const useconds_t delay_us = argc == 6 ? static_cast<useconds_t>(std::atoi(argv[5])) : 0;
  if (mode == "existing") {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      std::perror("unshare");
      return 1;
    }
    ::sleep(3);
  }
  int caught = 0, ran = 0, failed = 0;
  std::string outcomes;
  for (int i = 0; i < n; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(Round(mode, dir, bytes, delay_us));
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    if (rc == 100) {
      ++caught;
      outcomes += 'c';
    } else if (rc == 0) {
      ++ran;
      outcomes += 'r';
    } else {
      ++failed;
      outcomes += 'x';
      if (failed == 1) std::fprintf(stderr, "round %d: setup failed with %d\n", i, rc);
    }
    if (mode == "existing") ::umount2(dir.c_str(), MNT_DETACH);
  }
  std::printf(
      "%s (exec %u us after the mount's file is written): caught %d of %d (ran %d, setup "
      "failed %d)\n%s\n",
      mode.c_str(), static_cast<unsigned>(delay_us), caught, n, ran, failed, outcomes.c_str());
  return 0;
}
