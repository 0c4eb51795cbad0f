// exec_flood PATH COUNT [PROCS]: tries to execute PATH COUNT times in total, as fast as the
// machine allows, from PROCS processes at once (default 2): each posix_spawn (a vfork and an
// execve in glibc) that the kernel refuses is counted. Prints
//   attempts=N denied=D ran=R other=O first_errno=E
// and exits 0 when every attempt was denied (EPERM or EACCES), 1 otherwise. For the deny flood
// test (tests/integration/audit_flood_test.sh).
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

struct Counts {
  unsigned long attempts, denied, ran, other;
  int first_errno;
};

static void Run(const char* path, unsigned long n, struct Counts* c) {
  char* argv[] = {(char*)path, NULL};
  for (unsigned long i = 0; i < n; ++i) {
    pid_t pid;
    int rc = posix_spawn(&pid, path, NULL, NULL, argv, environ);
    __atomic_add_fetch(&c->attempts, 1, __ATOMIC_RELAXED);
    if (rc == EPERM || rc == EACCES) {
      __atomic_add_fetch(&c->denied, 1, __ATOMIC_RELAXED);
    } else if (rc == 0) {
      __atomic_add_fetch(&c->ran, 1, __ATOMIC_RELAXED);
      waitpid(pid, NULL, 0);
    } else {
      __atomic_add_fetch(&c->other, 1, __ATOMIC_RELAXED);
      int zero = 0;
      __atomic_compare_exchange_n(&c->first_errno, &zero, rc, 0, __ATOMIC_RELAXED,
                                  __ATOMIC_RELAXED);
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: exec_flood PATH COUNT [PROCS]\n");
    return 2;
  }
  const char* path = argv[1];
  const unsigned long count = strtoul(argv[2], NULL, 10);
  const int procs = argc > 3 ? atoi(argv[3]) : 2;
  if (count == 0 || procs < 1 || procs > 64) {
    fprintf(stderr, "exec_flood: bad COUNT or PROCS\n");
    return 2;
  }
  struct Counts* c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (c == MAP_FAILED) {
    perror("exec_flood: mmap");
    return 2;
  }
  memset(c, 0, sizeof *c);
  for (int p = 0; p < procs; ++p) {
    const unsigned long share = count / procs + ((unsigned long)p < count % procs ? 1 : 0);
    pid_t pid = fork();
    if (pid < 0) {
      perror("exec_flood: fork");
      return 2;
    }
    if (pid == 0) {
      Run(path, share, c);
      _exit(0);
    }
  }
  int failed = 0;
  for (int p = 0; p < procs; ++p) {
    int status = 0;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  printf("attempts=%lu denied=%lu ran=%lu other=%lu first_errno=%d\n", c->attempts, c->denied,
         c->ran, c->other, c->first_errno);
  return failed || c->denied != count ? 1 : 0;
}
