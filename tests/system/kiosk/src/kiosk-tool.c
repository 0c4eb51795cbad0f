/* kiosk-tool: the native program of the 1.1 update, linked against libkiosk.so.1. */
#include <stdio.h>
#include <string.h>

const char* kiosk_lib_version(void);

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--selftest") == 0) {
    printf("kiosk-tool selftest ok (%s)\n", kiosk_lib_version());
    return 0;
  }
  printf("kiosk-tool 1.1 (%s)\n", kiosk_lib_version());
  return 0;
}
