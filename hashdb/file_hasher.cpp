#include "hashdb/file_hasher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "hashdb/classify.h"
#include "hashdb/file_version.h"
#include "hashdb/read_lease.h"
#include "hashdb/sha256.h"
#include "hashdb/unique_fd.h"

namespace hashdb {
namespace {

HashedFile Outcome(HashOutcome outcome) {
  HashedFile h;
  h.outcome = outcome;
  return h;
}

HashedFile OpenFailed(const char* call, int err) {
  HashedFile h = Outcome(HashOutcome::kOpenFailed);
  h.failed_call = call;
  h.sys_errno = err;
  return h;
}

HashedFile ReadFailed(Error error, int attempts) {
  HashedFile h = Outcome(HashOutcome::kReadFailed);
  h.error = std::move(error);
  h.attempts = attempts;
  return h;
}

}  // namespace

HashedFile HashFileAt(int dir_fd, const std::string& name, std::string_view classify_name,
                      const HashFileOptions& options) {
  if (!options.listed_regular) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISLNK(st.st_mode)) return Outcome(HashOutcome::kSymlink);
      if (!S_ISREG(st.st_mode)) return Outcome(HashOutcome::kNotRegular);
    } else if (errno == ENOENT) {
      return Outcome(HashOutcome::kVanished);
    }  // other errors: the open below reports them
  }
  constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  // O_NOATIME keeps hashing from touching atimes; only allowed for the owner (or root).
  int raw = ::openat(dir_fd, name.c_str(), kFlags | O_NOATIME);
  if (raw < 0 && errno == EPERM) raw = ::openat(dir_fd, name.c_str(), kFlags);
  UniqueFd fd(raw);
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT) return Outcome(HashOutcome::kVanished);
    if (err == ELOOP) return Outcome(HashOutcome::kSymlink);
    return OpenFailed("open", err);
  }
  struct stat before {};
  if (::fstat(fd.get(), &before) != 0) return OpenFailed("fstat", errno);
  if (!S_ISREG(before.st_mode)) return Outcome(HashOutcome::kNotRegular);
  if (options.device && before.st_dev != *options.device) {
    return Outcome(HashOutcome::kOtherFilesystem);
  }
  // Most files are not code; deciding that first spares them the lease (two fcntl calls and a
  // lease teardown, ~50 us per file on the reference machine). A file whose content changes
  // while it is looked at here is either not code at both looks or classified again below.
  {
    auto sniff = ClassifyFd(fd.get(), static_cast<std::uint64_t>(before.st_size), before.st_mode,
                            classify_name);
    if (!sniff.ok()) return ReadFailed(sniff.error(), 0);
    if (!sniff->has_value()) return Outcome(HashOutcome::kNotCode);
  }
  const int max_attempts = options.max_attempts < 1 ? 1 : options.max_attempts;
  for (int attempt = 1;; ++attempt) {
    ReadLease lease = ReadLease::Take(fd.get());
    auto kind = ClassifyFd(fd.get(), static_cast<std::uint64_t>(before.st_size), before.st_mode,
                           classify_name);
    if (!kind.ok()) return ReadFailed(kind.error(), attempt);
    if (!kind->has_value()) {
      HashedFile h = Outcome(HashOutcome::kNotCode);
      h.attempts = attempt;
      return h;
    }
    struct stat after = before;
    const bool writer_present = lease.state() == LeaseState::kWriterPresent;
    if (!writer_present) {
      auto digest = Sha256File(fd.get(), before.st_size);
      if (::fstat(fd.get(), &after) != 0) return ReadFailed(ErrnoError("fstat"), attempt);
      if (!digest.ok() && digest.error().code != ErrorCode::kConflict) {
        return ReadFailed(digest.error(), attempt);
      }
      const bool lease_ok = lease.state() != LeaseState::kHeld || lease.StillHeld();
      if (digest.ok() && lease_ok &&
          FileVersion::FromStat(before).SameVersion(FileVersion::FromStat(after))) {
        HashedFile h = Outcome(HashOutcome::kHashed);
        h.entry = FileEntry{{},
                            *digest,
                            **kind,
                            static_cast<std::uint64_t>(after.st_size),
                            after.st_mode,
                            after.st_uid,
                            after.st_gid};
        h.attempts = attempt;
        return h;
      }
    }
    if (attempt >= max_attempts) {
      HashedFile h = Outcome(HashOutcome::kChanged);
      h.writer_present = writer_present;
      h.attempts = attempt;
      return h;
    }
    // Give a writer time to finish before looking again.
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    before = after;
  }
}

}  // namespace hashdb
