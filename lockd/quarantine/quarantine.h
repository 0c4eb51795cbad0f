#pragma once
// `lockctl quarantine PATH --out DIR [--remove]` on lockd's side (issue 15 item 3): copies a
// file, typically a foreign program lockd denied, into a non-executable archive an engineer can
// take to the bank's security team, without weakening enforcement. A foreign ELF on a marked
// filesystem cannot be read by cp or sha256sum (lockd refuses the open); lockd's own reads are
// allowed (the event loop allows its own pid), so lockd reads it here, on the control thread.
//
// The archive: DIR/lockd-quarantine-<first 16 hex of the sample's sha256>-<UTC time>.tar, a
// ustar archive (ustar.h), file mode 0400, holding
//   sample.bin      the file's bytes, member mode 0400 (never executable, not its old name)
//   manifest.json   evidence.h ManifestJson: path, sha256, stat (mode, uid, gid, size, mtime,
//                   inode, device), first and last seen, the deny records naming the file
// It is written under a temporary name (O_EXCL, 0600), fsynced, made 0400, renamed into place
// without replacing anything (RENAME_NOREPLACE), and the directory fsynced.
//
// Refused (nothing written, nothing removed): a path or DIR that is not absolute; a symlink
// (lstat, then open with O_NOFOLLOW); anything but a regular file (never opened: FIFOs and
// devices are seen by lstat; O_NONBLOCK covers a swap in between); a file whose fstat after
// the open is not the file lstat saw (dev, inode), that someone holds open for writing (no read
// lease: read_lease.h), or whose size, mtime, ctime or mode change while it is read, or whose
// bytes read differ from its size; a DIR that is a symlink or not a directory. Only the last
// component of each path is protected against symlinks; the directories above belong to root.
// DIR may be on a marked filesystem: the archive is not code (a tar header comes first, mode
// 0400, no #!), so lockd never lets it run, and a USB stick is marked as well.
//
// With remove, the file is unlinked only after the archive was written, fsynced and renamed,
// and only if the path still names the same file (dev, inode); the directory is then fsynced.
// A failed removal is reported (the archive stays) and recorded.
//
// Every quarantine is written to the audit log as a "quarantine" record (docs/audit-log.md).

#include <cstdint>
#include <functional>
#include <string>

#include "hashdb/result.h"
#include "lockd/control/server.h"
#include "lockd/decision_sink.h"
#include "lockd/quarantine/evidence.h"

namespace lockd::quarantine {

struct QuarantineResult {
  std::string archive;         // its final path
  std::string archive_sha256;  // of the archive's bytes
  SampleFacts sample;
  std::uint64_t deny_records = 0;
  std::string first_seen, last_seen;
  bool removed = false;
  std::string remove_error;  // why a requested removal did not happen ("" otherwise)
};

struct QuarantineEnv {
  std::string audit_log;  // lockd's audit log base path (rotated files are read too)
  std::string terminal_id;
  std::function<std::int64_t()> now_unix_ns;  // empty: the real clock
};

// Does the whole quarantine (see above). Errors are kInvalidArgument (refused: wrong kind of
// file, symlink, changed while read), kIo or kNotFound, with the path in the message.
hashdb::Result<QuarantineResult> Quarantine(const QuarantineRequest& request,
                                            const QuarantineEnv& env);

// The reply lockd sends: "ok" and one JSON object ({"archive", "archive_sha256", "path",
// "sha256", "size", "deny_records", "first_seen", "last_seen", "removed", "remove_error"}), or
// "refused"/"error" and the reason. Writes the audit record on success.
ControlReply HandleQuarantine(const QuarantineRequest& request, const QuarantineEnv& env,
                              DecisionSink& sink);

}  // namespace lockd::quarantine
