// fs_reconfigure PATH ro|rw: makes the superblock of the filesystem at PATH read-only or
// read-write through the new mount API (fspick + fsconfig FSCONFIG_CMD_RECONFIGURE), which
// changes the superblock alone: no mount's flags change and no mount table is notified (what a
// root attacker would use to make a read-only filesystem writable without lockd seeing a mount
// change). Test helper for kernel_cache_test.sh; never installed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[2], "ro") != 0 && strcmp(argv[2], "rw") != 0)) {
    fprintf(stderr, "usage: fs_reconfigure PATH ro|rw\n");
    return 2;
  }
  int fd = (int)syscall(SYS_fspick, AT_FDCWD, argv[1], FSPICK_CLOEXEC);
  if (fd < 0) {
    perror("fspick");
    return 1;
  }
  if (syscall(SYS_fsconfig, fd, FSCONFIG_SET_FLAG, argv[2], NULL, 0) != 0) {
    perror("fsconfig(FSCONFIG_SET_FLAG)");
    return 1;
  }
  if (syscall(SYS_fsconfig, fd, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) != 0) {
    perror("fsconfig(FSCONFIG_CMD_RECONFIGURE)");
    return 1;
  }
  close(fd);
  return 0;
}
