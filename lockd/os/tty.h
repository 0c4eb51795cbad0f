#pragma once
// Writing one short notice to a process's controlling terminal (the TTY deny notice,
// lockd/tty_notice.h). The terminal is named by the tty_nr field of /proc/<pid>/stat, read
// before the kernel is answered (the process may be gone by the time the notice is written).
//
// Security: lockd runs as root with CAP_DAC_OVERRIDE, so it could open any device. The device
// opened here must be a character device whose st_rdev is exactly tty_nr and must answer
// isatty(); anything else (a regular file or a symlink planted under /dev, a device number
// that is not a terminal) is refused. The open never makes it lockd's controlling terminal
// (O_NOCTTY) and the write never blocks in the kernel (O_NONBLOCK). A write refused with EAGAIN
// is tried again for a short while (`patience`): the kernel refuses a non-blocking write at
// once while another process is writing to the same terminal, which the denied shell does
// when it prints its own error at the moment the notice is written; only a terminal that takes
// nothing for the whole patience (stopped with ^S, nobody reading it) loses the notice. Only
// the notice thread waits; the workers never do.
//
// Known limit: a pseudo-terminal of a container with its own devpts instance has the same
// device number as the host's pts of the same index; lockd resolves /dev/pts/N in its own
// mount namespace, so such a notice may reach the host's terminal of that number.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "hashdb/result.h"

namespace lockd::os {

// The device path for a tty_nr (encoded as in /proc/<pid>/stat and st_rdev): major 136 ->
// "<dev_root>/pts/N", major 4 minor < 64 -> "<dev_root>/ttyN", major 4 minor >= 64 ->
// "<dev_root>/ttyS<N-64>", (5, 1) -> "<dev_root>/console". "" for 0 (no controlling terminal)
// and for every other device (no notice is written there).
std::string TtyDevicePath(std::uint64_t tty_nr, const std::string& dev_root = "/dev");

// Opens the terminal tty_nr (O_WRONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC), checks it
// is a character device with st_rdev == tty_nr and a terminal, and writes text: a short write
// goes on with the rest, EAGAIN is tried again every 2 ms until `patience` has passed. Errors
// name the device and the reason (how much was written when the patience ran out).
hashdb::Status WriteToTerminal(std::uint64_t tty_nr, std::string_view text,
                               const std::string& dev_root = "/dev",
                               std::chrono::milliseconds patience = std::chrono::milliseconds(250));

}  // namespace lockd::os
