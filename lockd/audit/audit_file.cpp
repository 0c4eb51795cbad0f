#include "lockd/audit/audit_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "lockd/audit/tail.h"

namespace lockd::audit {
namespace {

using hashdb::ErrnoError;
using hashdb::Result;
using hashdb::Status;
using hashdb::UniqueFd;

std::string ParentDir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status FsyncDir(const std::string& dir) {
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d.valid()) return ErrnoError(dir);
  if (::fsync(d.get()) != 0) return ErrnoError(dir + ": fsync");
  return {};
}

// Holds an exclusive flock for its lifetime.
class FlockGuard {
 public:
  explicit FlockGuard(int fd) : fd_(fd) {}
  ~FlockGuard() {
    if (locked_) ::flock(fd_, LOCK_UN);
  }
  FlockGuard(const FlockGuard&) = delete;
  FlockGuard& operator=(const FlockGuard&) = delete;
  Status Lock(const std::string& what) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoError(what + ": flock");
    }
    locked_ = true;
    return {};
  }

 private:
  int fd_;
  bool locked_ = false;
};

std::string Rotated(const std::string& path, int n) { return path + "." + std::to_string(n); }

}  // namespace

Result<std::unique_ptr<AuditFile>> AuditFile::Open(AuditFileOptions options) {
  if (options.keep < 1) options.keep = 1;
  const std::string dir = ParentDir(options.path);
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return ErrnoError(dir + ": mkdir");
  std::unique_ptr<AuditFile> file(new AuditFile(std::move(options)));
  const std::string lock_path = file->options_.path + ".lock";
  file->lock_fd_.Reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file->lock_fd_.valid()) return ErrnoError(lock_path);
  FlockGuard lock(file->lock_fd_.get());
  HASHDB_TRY(lock.Lock(lock_path));
  std::vector<Record> recovery;
  HASHDB_TRY(file->Resync(recovery));
  if (!recovery.empty()) {
    // Write the recovery records now, so the log is whole again even if nothing else comes.
    for (const Record& r : recovery) HASHDB_TRY(file->WriteRecord(r, nullptr));
    if (file->options_.sync && ::fdatasync(file->fd_.get()) != 0) {
      return ErrnoError(file->options_.path + ": fdatasync");
    }
  }
  return file;
}

Status AuditFile::OpenCurrent() {
  fd_.Reset(::open(options_.path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                   options_.mode));
  if (!fd_.valid()) return ErrnoError(options_.path);
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return ErrnoError(options_.path + ": fstat");
  if (!S_ISREG(st.st_mode)) {
    fd_.Reset();
    return hashdb::MakeError(hashdb::ErrorCode::kIo, options_.path + ": not a regular file");
  }
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  return {};
}

Status AuditFile::Resync(std::vector<Record>& recovery) {
  struct stat st {};
  const bool exists = ::stat(options_.path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) return ErrnoError(options_.path + ": stat");
  if (!fd_.valid() || !exists || st.st_dev != dev_ || st.st_ino != ino_) {
    in_sync_ = false;
    HASHDB_TRY(OpenCurrent());
    if (!exists) HASHDB_TRY(FsyncDir(ParentDir(options_.path)));
  }
  if (::fstat(fd_.get(), &st) != 0) return ErrnoError(options_.path + ": fstat");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (in_sync_ && size == end_) return {};

  pending_newline_ = false;
  auto tail = ReadTail(fd_.get(), size);
  if (!tail) return tail.error().Wrap(options_.path);
  std::string source = options_.path;  // where the chain head (last complete line) is
  int torn_fd = fd_.get();
  std::string torn_source = options_.path;
  LogTail torn = *tail;
  if (!tail->has_line) {
    // No complete line here: a fresh log or a rotation (possibly with a crash during the new
    // file's first write); the chain continues from path.1 when it exists.
    const std::string prev_path = Rotated(options_.path, 1);
    UniqueFd previous(::open(prev_path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
    if (previous.valid()) {
      struct stat pst {};
      if (::fstat(previous.get(), &pst) != 0) return ErrnoError(prev_path + ": fstat");
      tail = ReadTail(previous.get(), static_cast<std::uint64_t>(pst.st_size));
      if (!tail) return tail.error().Wrap(prev_path);
      source = prev_path;
      if (torn.torn_bytes == 0 && tail->torn_bytes > 0) {
        // Only possible if path.1 was torn by a crash and rotated by someone else.
        torn = *tail;
        torn_source = prev_path;
        if (::write(previous.get(), "\n", 1) != 1) return ErrnoError(prev_path + ": write");
        torn_fd = -1;
      }
    } else if (errno != ENOENT) {
      return ErrnoError(prev_path);
    } else if (have_head_ && torn.torn_bytes == 0) {
      in_sync_ = true;  // rotated away by someone else under another name: keep our head
      end_ = size;
      return {};
    }
  }
  if (torn.torn_bytes > 0) {
    // Terminate the fragment so the next record starts a clean line, and acknowledge it.
    // In the current file the newline goes out in the same write(2) as the acknowledgement,
    // so no crash can leave a terminated but unacknowledged fragment.
    if (torn_fd >= 0) pending_newline_ = true;
    Record record("torn_record");
    record.AddBytes("file", torn_source.substr(torn_source.rfind('/') + 1));
    record.AddUint("torn_bytes", torn.torn_bytes);
    record.AddBytes("torn_sha256", torn.torn_hash);
    recovery.push_back(std::move(record));
  }
  if (!tail->has_line) {
    head_ = ChainHead{};
  } else {
    const auto seq = tail->line_too_long ? std::nullopt : LineSeq(tail->line);
    if (seq) {
      head_ = ChainHead{*seq, tail->line_hash};
    } else {
      // The last line is not a record: the log was damaged by someone else. Keep appending
      // (never stop logging); the verifier reports the damaged line, this says we saw it.
      head_ = ChainHead{have_head_ ? head_.seq : 0, tail->line_hash};
      Record restart("chain_restart");
      restart.AddBytes("file", source.substr(source.rfind('/') + 1));
      restart.AddBytes("reason", "the last line is not a valid audit record");
      recovery.insert(recovery.begin(), std::move(restart));
    }
  }
  if (::fstat(fd_.get(), &st) != 0) return ErrnoError(options_.path + ": fstat");
  end_ = static_cast<std::uint64_t>(st.st_size);
  have_head_ = true;
  in_sync_ = true;
  return {};
}

Status AuditFile::Rotate(std::vector<std::string>* written) {
  const std::string oldest = Rotated(options_.path, options_.keep);
  struct stat st {};
  if (::lstat(oldest.c_str(), &st) == 0) {
    // Say what is deleted before deleting it: the record goes into the current file, which
    // becomes path.1 (so it outlives the file it names by `keep` rotations).
    auto dropped = DescribeDroppedFile(oldest);
    DroppedFile facts;
    if (dropped) {
      facts = std::move(*dropped);
    } else {
      facts.name = oldest.substr(oldest.rfind('/') + 1);
      facts.bytes = static_cast<std::uint64_t>(st.st_size);
    }
    TakenMarks marks{ReadExportMark(options_.path), forwarded_from_, forwarded_through_};
    std::string line = FormatLine(head_.seq + 1, head_.hash, RotationDropRecord(facts, marks));
    HASHDB_TRY(WriteLine(line));
    if (written) written->push_back(std::move(line));
  } else if (errno != ENOENT) {
    return ErrnoError(oldest + ": lstat");
  }
  if (::fdatasync(fd_.get()) != 0) return ErrnoError(options_.path + ": fdatasync");
  if (::unlink(oldest.c_str()) != 0 && errno != ENOENT) return ErrnoError(oldest + ": unlink");
  for (int k = options_.keep - 1; k >= 1; --k) {
    const std::string from = Rotated(options_.path, k);
    if (::rename(from.c_str(), Rotated(options_.path, k + 1).c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(from + ": rename");
    }
  }
  if (::rename(options_.path.c_str(), Rotated(options_.path, 1).c_str()) != 0) {
    return ErrnoError(options_.path + ": rename");
  }
  in_sync_ = false;
  HASHDB_TRY(OpenCurrent());
  HASHDB_TRY(FsyncDir(ParentDir(options_.path)));
  end_ = 0;
  in_sync_ = true;
  return {};
}

Status AuditFile::WriteRecord(const Record& record, std::vector<std::string>* written) {
  auto format = [&] {
    std::string line = FormatLine(head_.seq + 1, head_.hash, record);
    if (line.size() > kMaxLineBytes) {
      Record big("oversized_record");
      big.set_time(record.time());
      big.AddBytes("record_type", record.type());
      big.AddUint("record_bytes", line.size());
      line = FormatLine(head_.seq + 1, head_.hash, big);
    }
    return line;
  };
  std::string line = format();
  if (options_.max_bytes > 0 && end_ > 0 && end_ + line.size() + 1 > options_.max_bytes) {
    if (pending_newline_) {
      if (::write(fd_.get(), "\n", 1) != 1) {
        in_sync_ = false;
        return ErrnoError(options_.path + ": terminating torn line");
      }
      pending_newline_ = false;
      end_ += 1;
    }
    HASHDB_TRY(Rotate(written));
    line = format();  // the rotation_drop record moved the head
  }
  HASHDB_TRY(WriteLine(line));
  if (written) written->push_back(std::move(line));
  return {};
}

Status AuditFile::WriteLine(const std::string& line) {
  std::string buf;
  buf.reserve(line.size() + 2);
  if (pending_newline_) buf += '\n';
  buf += line;
  buf += '\n';
  ssize_t n;
  do {
    n = ::write(fd_.get(), buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    in_sync_ = false;  // Resync sees the fragment still unterminated and tries again
    pending_newline_ = false;
    return ErrnoError(options_.path + ": write");
  }
  if (static_cast<std::size_t>(n) != buf.size()) {
    // A short write (disk full) leaves a torn line; the next Append repairs it.
    in_sync_ = false;
    pending_newline_ = false;
    return hashdb::MakeError(hashdb::ErrorCode::kIo, options_.path + ": short write (disk full?)");
  }
  end_ += buf.size();
  pending_newline_ = false;
  head_.seq += 1;
  head_.hash = LineHash(line);
  return {};
}

Status AuditFile::Append(std::span<const Record> records, std::vector<std::string>* written,
                         std::size_t* records_done) {
  if (records_done) *records_done = 0;
  FlockGuard lock(lock_fd_.get());
  HASHDB_TRY(lock.Lock(options_.path + ".lock"));
  std::vector<Record> recovery;
  HASHDB_TRY(Resync(recovery));
  auto write_one = [&](const Record& record) -> Status { return WriteRecord(record, written); };
  for (const Record& r : recovery) HASHDB_TRY(write_one(r));
  for (const Record& r : records) {
    HASHDB_TRY(write_one(r));
    if (records_done) ++*records_done;
  }
  if (options_.sync && ::fdatasync(fd_.get()) != 0) {
    return ErrnoError(options_.path + ": fdatasync");
  }
  return {};
}

}  // namespace lockd::audit
