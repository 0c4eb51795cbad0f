#!/bin/bash
# The writer probe (lockd/os/file_probe.h) takes a read lease on the event's file for a moment.
# A writer that opens the file in that moment breaks the lease, and the kernel then sends SIGIO
# to lockd (the lease holder), whose default action would end the decider: any user able to
# write a file it can also run could race opens against lockd's probe and have the decider
# killed and restarted again and again. lockd ignores SIGIO. Checked directly (the signal a
# lease break sends, delivered to the decider: it must keep running and answering) and by the
# race itself (execs of a file while another process opens it for writing, 5 s).
source "$(dirname "$0")/lib.sh"

setup_standard tmpfs
start_lockd
D0=$(decider_pid)
[[ -n $D0 ]] || fail "no decider"
kill -IO "$D0"
sleep 0.5
if kill -0 "$D0" 2>/dev/null && [[ $(decider_pid) == "$D0" ]]; then
  log "ok: the decider survived SIGIO"
else
  fail "the decider $D0 died of SIGIO (decider now: '$(decider_pid)')"
fi
expect_runs "$MNT/good"
expect_denied "$MNT/foreign"

# The race: execs of a root-owned allowlisted file while another process opens it for writing.
RACE="$LOCKD_BUILD_DIR/integration-helpers/open_exec_race"
mkdir -p "$(dirname "$RACE")"
cat >"$T/race.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char** environ;
int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const time_t end = time(NULL) + atoi(argv[2]);
  pid_t writer = fork();
  if (writer == 0) {
    while (time(NULL) < end) {
      int fd = open(argv[1], O_WRONLY);
      if (fd >= 0) close(fd);
    }
    _exit(0);
  }
  long runs = 0;
  while (time(NULL) < end) {
    pid_t p;
    char* args[] = {argv[1], NULL};
    if (posix_spawn(&p, argv[1], NULL, NULL, args, environ) == 0) waitpid(p, NULL, 0);
    ++runs;
  }
  waitpid(writer, NULL, 0);
  printf("%ld\n", runs);
  return 0;
}
C
gcc -O2 -Wall -Werror -o "$RACE" "$T/race.c" || { log "cannot build the race helper"; exit 1; }
probe 15 "$RACE" "$MNT/good" 5
[[ $PROBE_RC == 0 ]] || fail "the race did not end cleanly: $PROBE_RC $PROBE_ERR"
[[ $(decider_pid) == "$D0" ]] && log "ok: the decider survived 5 s of opens racing its probe" ||
  fail "the decider changed during the race ($D0 -> $(decider_pid))"
expect_runs "$MNT/good"
stop_lockd
finish
