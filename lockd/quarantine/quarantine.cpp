#include "lockd/quarantine/quarantine.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <vector>

#include "audit/json_escape.h"
#include "audit/record.h"
#include "audit/verify.h"
#include "hashdb/digest.h"
#include "hashdb/file_version.h"
#include "hashdb/read_lease.h"
#include "hashdb/sha256.h"
#include "hashdb/unique_fd.h"
#include "lockd/quarantine/ustar.h"
#include "lockd/text_escape.h"

namespace lockd::quarantine {

namespace {

using hashdb::ErrnoError;
using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::UniqueFd;

constexpr char kSampleMember[] = "sample.bin";
constexpr char kManifestMember[] = "manifest.json";
constexpr std::size_t kChunk = 1 << 20;

std::string Shown(const std::string& path) { return EscapeLogValue(path); }

hashdb::Error Refused(const std::string& path, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, Shown(path) + ": " + why);
}

std::string TypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

// Writes all of data, feeding it to the archive's hash.
hashdb::Status WriteAll(int fd, std::string_view data, hashdb::Sha256Hasher& archive_hash,
                        const std::string& name) {
  archive_hash.Update({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + Shown(name));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string CompactUtc(std::int64_t unix_ns) {
  const std::time_t secs = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// The deny records of every file of the audit log naming the sample, read line by line.
void CollectDenyRecords(const std::string& audit_log, DenyRecordCollector& collector,
                        Manifest& manifest) {
  auto files = audit::DiscoverLogFiles(audit_log);
  if (!files.ok()) {
    manifest.audit_error = files.error().message;
    return;
  }
  for (const std::string& file : *files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      manifest.audit_error = Shown(file) + ": cannot be read";
      continue;
    }
    manifest.audit_logs.push_back(file);
    for (std::string line; std::getline(in, line);) collector.AddLine(line);
  }
}

// Removes the archive being written unless Keep() was called.
class PartialFile {
 public:
  PartialFile(int dir_fd, std::string name) : dir_fd_(dir_fd), name_(std::move(name)) {}
  ~PartialFile() {
    if (!name_.empty()) ::unlinkat(dir_fd_, name_.c_str(), 0);
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  void Keep() { name_.clear(); }

 private:
  int dir_fd_;
  std::string name_;
};

std::string Parent(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

std::atomic<unsigned> g_partial_counter{0};

}  // namespace

hashdb::Result<QuarantineResult> Quarantine(const QuarantineRequest& request,
                                            const QuarantineEnv& env) {
  const std::string& path = request.path;
  if (path.empty() || path[0] != '/') return Refused(path, "not an absolute path");
  if (request.out_dir.empty() || request.out_dir[0] != '/') {
    return Refused(request.out_dir, "output directory is not an absolute path");
  }
  const std::int64_t now_ns = env.now_unix_ns
                                  ? env.now_unix_ns()
                                  : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();

  // 1. What the path names, without following a symlink, before anything is opened.
  struct stat lst;
  if (::fstatat(AT_FDCWD, path.c_str(), &lst, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(Shown(path));
  }
  if (!S_ISREG(lst.st_mode)) return Refused(path, TypeName(lst.st_mode) + ": refused");

  // 2. Open it (never through a symlink; O_NONBLOCK: a FIFO swapped in cannot block us) and
  // check it is still the file lstat saw.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP) return Refused(path, "replaced by a symlink: refused");
    return ErrnoError("open " + Shown(path));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("fstat " + Shown(path));
  if (!S_ISREG(st.st_mode) || st.st_dev != lst.st_dev || st.st_ino != lst.st_ino) {
    return Refused(path, "changed between stat and open: refused");
  }
  const hashdb::FileVersion before = hashdb::FileVersion::FromStat(st);
  if (static_cast<std::uint64_t>(st.st_size) > kMaxTarMemberSize) {
    return Refused(path, "larger than 8 GiB: refused");
  }
  hashdb::ReadLease lease = hashdb::ReadLease::Take(fd.get());
  if (lease.state() == hashdb::LeaseState::kWriterPresent) {
    return Refused(path, "open for writing by another process: refused (try again later)");
  }

  // 3. The output directory, and the archive under a temporary name.
  UniqueFd dir(::open(request.out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    if (errno == ELOOP || errno == ENOTDIR) {
      return Refused(request.out_dir, "output directory is a symlink or not a directory");
    }
    return ErrnoError("output directory " + Shown(request.out_dir));
  }
  const std::string partial_name = ".lockd-quarantine-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(g_partial_counter.fetch_add(1)) + ".partial";
  UniqueFd out(::openat(dir.get(), partial_name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) return ErrnoError("create " + Shown(request.out_dir + "/" + partial_name));
  PartialFile partial(dir.get(), partial_name);
  const std::string partial_path = request.out_dir + "/" + partial_name;

  // 4. The sample: header with fstat's size, then the bytes read through our descriptor.
  hashdb::Sha256Hasher archive_hash;
  hashdb::Sha256Hasher sample_hash;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  auto header = UstarFileHeader(kSampleMember, size, 0400, st.st_mtim.tv_sec);
  if (!header.ok()) return header.error();
  HASHDB_TRY(WriteAll(out.get(), *header, archive_hash, partial_path));
  std::vector<char> buf(kChunk);
  std::uint64_t copied = 0;
  for (;;) {
    const ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(copied));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + Shown(path));
    }
    if (n == 0) break;
    copied += static_cast<std::uint64_t>(n);
    if (copied > size) break;  // grew: refused below
    const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
    sample_hash.Update({reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size()});
    HASHDB_TRY(WriteAll(out.get(), chunk, archive_hash, partial_path));
  }
  struct stat after;
  if (::fstat(fd.get(), &after) != 0) return ErrnoError("fstat " + Shown(path));
  if (copied != size || !before.SameVersion(hashdb::FileVersion::FromStat(after)) ||
      (lease.state() == hashdb::LeaseState::kHeld && !lease.StillHeld())) {
    return Refused(path, "changed while it was read: refused (try again)");
  }
  HASHDB_TRY(WriteAll(out.get(), TarPadding(size), archive_hash, partial_path));

  // 5. The manifest.
  Manifest manifest;
  SampleFacts& s = manifest.sample;
  s.path = path;
  s.sha256 = hashdb::ToHex(sample_hash.Finish());
  s.size = size;
  s.mode = st.st_mode;
  s.uid = st.st_uid;
  s.gid = st.st_gid;
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.ino = st.st_ino;
  s.dev = st.st_dev;
  manifest.member = kSampleMember;
  manifest.quarantined_at = audit::FormatTime(audit::Clock::time_point(
      std::chrono::duration_cast<audit::Clock::duration>(std::chrono::nanoseconds(now_ns))));
  manifest.terminal_id = env.terminal_id;
  manifest.remove_requested = request.remove;
  DenyRecordCollector collector(path, s.sha256);
  CollectDenyRecords(env.audit_log, collector, manifest);
  manifest.deny_records = collector.records();
  manifest.deny_records_total = collector.total();
  manifest.first_seen = collector.first_seen();
  manifest.last_seen = collector.last_seen();
  const std::string manifest_json = ManifestJson(manifest);
  auto manifest_header =
      UstarFileHeader(kManifestMember, manifest_json.size(), 0400, now_ns / 1'000'000'000);
  if (!manifest_header.ok()) return manifest_header.error();
  HASHDB_TRY(WriteAll(out.get(), *manifest_header, archive_hash, partial_path));
  HASHDB_TRY(WriteAll(out.get(), manifest_json, archive_hash, partial_path));
  HASHDB_TRY(WriteAll(out.get(), TarPadding(manifest_json.size()), archive_hash, partial_path));
  HASHDB_TRY(WriteAll(out.get(), TarEnd(), archive_hash, partial_path));

  // 6. Durable, read-only, then under its name (never replacing a file), directory synced.
  if (::fsync(out.get()) != 0) return ErrnoError("fsync " + Shown(partial_path));
  if (::fchmod(out.get(), 0400) != 0) return ErrnoError("chmod " + Shown(partial_path));
  if (::close(out.Release()) != 0) return ErrnoError("close " + Shown(partial_path));
  QuarantineResult result;
  const std::string final_name =
      "lockd-quarantine-" + s.sha256.substr(0, 16) + "-" + CompactUtc(now_ns) + ".tar";
  if (::renameat2(dir.get(), partial_name.c_str(), dir.get(), final_name.c_str(),
                  RENAME_NOREPLACE) != 0) {
    return ErrnoError("rename to " + Shown(request.out_dir + "/" + final_name));
  }
  partial.Keep();
  if (::fsync(dir.get()) != 0) return ErrnoError("fsync " + Shown(request.out_dir));
  result.archive = request.out_dir == "/" ? "/" + final_name : request.out_dir + "/" + final_name;
  result.archive_sha256 = hashdb::ToHex(archive_hash.Finish());
  result.sample = s;
  result.deny_records = collector.total();
  result.first_seen = collector.first_seen();
  result.last_seen = collector.last_seen();

  // 7. Remove the original only now, and only if the path still names the same file.
  if (request.remove) {
    struct stat now_st;
    if (::fstatat(AT_FDCWD, path.c_str(), &now_st, AT_SYMLINK_NOFOLLOW) != 0) {
      result.remove_error = "stat: " + std::string(std::strerror(errno));
    } else if (now_st.st_dev != st.st_dev || now_st.st_ino != st.st_ino) {
      result.remove_error = "the path names another file now: not removed";
    } else if (::unlink(path.c_str()) != 0) {
      result.remove_error = "unlink: " + std::string(std::strerror(errno));
    } else {
      result.removed = true;
      UniqueFd parent(::open(Parent(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (parent.valid()) ::fsync(parent.get());
    }
  }
  return result;
}

ControlReply HandleQuarantine(const QuarantineRequest& request, const QuarantineEnv& env,
                              DecisionSink& sink) {
  auto r = Quarantine(request, env);
  if (!r.ok()) {
    const auto code = r.error().code == ErrorCode::kInvalidArgument ? ControlReply::Code::kRefused
                                                                    : ControlReply::Code::kError;
    return {code, "quarantine: " + r.error().message + "\n"};
  }
  using audit::JsonBytesMember;
  using audit::JsonString;
  std::string json =
      "{" + JsonBytesMember("archive", r->archive) +
      ",\"archive_sha256\":" + JsonString(r->archive_sha256) + "," +
      JsonBytesMember("path", r->sample.path) + ",\"sha256\":" + JsonString(r->sample.sha256) +
      ",\"size\":" + std::to_string(r->sample.size) +
      ",\"deny_records\":" + std::to_string(r->deny_records) +
      ",\"first_seen\":" + (r->first_seen.empty() ? "null" : JsonString(r->first_seen)) +
      ",\"last_seen\":" + (r->last_seen.empty() ? "null" : JsonString(r->last_seen)) +
      ",\"remove_requested\":" + (request.remove ? "true" : "false") +
      ",\"removed\":" + (r->removed ? "true" : "false") + "," +
      JsonBytesMember("remove_error", r->remove_error) + "}\n";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"path", r->sample.path},
      {"sha256", r->sample.sha256},
      {"size", std::to_string(r->sample.size)},
      {"archive", r->archive},
      {"archive_sha256", r->archive_sha256},
      {"deny_records", std::to_string(r->deny_records)},
      {"remove_requested", request.remove ? "true" : "false"},
      {"removed", r->removed ? "true" : "false"},
  };
  if (!r->remove_error.empty()) fields.emplace_back("remove_error", r->remove_error);
  sink.OnDaemonEvent(DaemonEvent(NowUnixNs(), DaemonEventKind::kQuarantine,
                                 "quarantined " + r->sample.path + " into " + r->archive, 0,
                                 std::move(fields)));
  return {ControlReply::Code::kOk, json};
}

}  // namespace lockd::quarantine
