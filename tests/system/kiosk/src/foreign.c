/* Foreign code: a program that is in no baseline of the bed. When it runs it says so on stdout
 * and, given a path, leaves a marker file there, so a check can tell that it ran even if its
 * output was lost. */
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc > 1) {
    FILE* f = fopen(argv[1], "w");
    if (f != NULL) {
      fputs("foreign code ran\n", f);
      fclose(f);
    }
  }
  puts("FOREIGN CODE RAN");
  return 0;
}
