/* Test library for the coverage tests (tests/integration/coverage_*_test.sh): prints a marker
 * from its constructor, so a test sees whether it was loaded. Built twice with different
 * MARKER values: one allowlisted, one foreign. Also usable as an LD_AUDIT module. */
#include <stdio.h>
#include <unistd.h>

#ifndef MARKER
#define MARKER "LIB-LOADED"
#endif

__attribute__((constructor)) static void coverage_lib_init(void) {
  static const char msg[] = MARKER "\n";
  (void)!write(2, msg, sizeof msg - 1);
}

/* LD_AUDIT entry point. */
unsigned int la_version(unsigned int version) { return version; }

int coverage_lib_answer(void) { return 42; }
