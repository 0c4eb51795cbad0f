/* libkiosk.so.1: the shared library the 1.1 update ships (its installation activates libc-bin's
 * ldconfig trigger). */
const char* kiosk_lib_version(void) { return "libkiosk 1.1"; }
