#include "lockd/maintenance/db_install.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <span>

#include "hashdb/atomic_file.h"
#include "hashdb/database.h"
#include "hashdb/diff.h"
#include "hashdb/sha256.h"
#include "hashdb/trust_store.h"
#include "hashdb/unique_fd.h"

namespace lockd::maintenance {

namespace {

std::string Dir(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

void SyncDir(const std::string& path) {
  hashdb::UniqueFd dir(::open(Dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid()) (void)::fsync(dir.get());
}

}  // namespace

hashdb::Result<DatabaseFile> ReadDatabaseFile(const std::string& path) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return hashdb::ErrnoError(path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return hashdb::ErrnoError(path);
  if (!S_ISREG(st.st_mode)) {
    return hashdb::MakeError(hashdb::ErrorCode::kInvalidArgument, path + ": not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxDatabaseFile) {
    return hashdb::MakeError(
        hashdb::ErrorCode::kInvalidArgument,
        path + ": larger than " + std::to_string(kMaxDatabaseFile >> 20) + " MiB");
  }
  DatabaseFile file;
  file.path = path;
  file.bytes.resize(static_cast<std::size_t>(st.st_size));
  std::size_t off = 0;
  while (off < file.bytes.size()) {
    ssize_t n = ::pread(fd.get(), file.bytes.data() + off, file.bytes.size() - off,
                        static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return hashdb::ErrnoError(path);
    if (n == 0) {
      return hashdb::MakeError(hashdb::ErrorCode::kConflict, path + ": shrank while read");
    }
    off += static_cast<std::size_t>(n);
  }
  file.sha256_hex = hashdb::ToHex(hashdb::Sha256(file.bytes));
  return file;
}

hashdb::Result<InstallOutcome> InstallDatabase(const DatabaseFile& file,
                                               DatabaseManager& databases) {
  auto trust = hashdb::TrustStore::LoadDirectory(databases.trust_dir());
  if (!trust.ok()) return trust.error().Wrap("trust anchors");
  auto candidate = hashdb::Database::FromBytes(file.bytes, file.path, *trust);
  if (!candidate.ok()) return candidate.error().Wrap("database refused");
  auto current = databases.Current();
  InstallOutcome out;
  out.previous_generation = current != nullptr ? current->generation() : 0;
  out.generation = (*candidate)->generation();
  if (current != nullptr && out.generation <= out.previous_generation) {
    return hashdb::MakeError(hashdb::ErrorCode::kConflict,
                             "database refused: generation " + std::to_string(out.generation) +
                                 " is not greater than generation " +
                                 std::to_string(out.previous_generation) + " in force");
  }
  if (current != nullptr) {
    const hashdb::DatabaseDiff diff = hashdb::DiffDatabases(*current, **candidate);
    out.added = diff.added.size();
    out.removed = diff.removed.size();
    out.changed = diff.changed.size();
  }

  const std::string& target = databases.database_path();
  const std::string previous = target + ".previous";
  (void)::unlink(previous.c_str());
  const bool have_previous = ::link(target.c_str(), previous.c_str()) == 0;
  auto written = hashdb::WriteFileAtomically(target, file.bytes, 0600);
  if (!written.ok()) {
    if (have_previous) (void)::unlink(previous.c_str());
    return written.error().Wrap("install " + target);
  }
  auto loaded = databases.Load();
  if (!loaded.ok()) {
    // Put the previous file back, so a restart loads what is in force now.
    if (have_previous && ::rename(previous.c_str(), target.c_str()) == 0) SyncDir(target);
    return loaded.error().Wrap("database installed but not loaded (previous file restored)");
  }
  if (have_previous) (void)::unlink(previous.c_str());
  const auto& db = **loaded;
  out.generation = db.generation();
  out.description = db.name() + " generation " + std::to_string(db.generation()) + ", " +
                    std::to_string(db.digest_count()) + " digests, signer " +
                    hashdb::ToHex(db.signer_key_id()).substr(0, 16);
  return out;
}

}  // namespace lockd::maintenance
