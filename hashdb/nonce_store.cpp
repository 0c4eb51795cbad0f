#include "hashdb/nonce_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <vector>

#include "hashdb/digest.h"
#include "hashdb/unique_fd.h"

namespace hashdb {

namespace {

Status CheckIssuedText(const std::string& issued) {
  if (issued.size() > kMaxIssuedText) {
    return MakeError(ErrorCode::kInvalidArgument, "issued challenge text longer than " +
                                                      std::to_string(kMaxIssuedText) + " bytes");
  }
  return {};
}

}  // namespace

Status MemoryNonceStore::Issue(const Nonce& nonce, std::int64_t expires_at, std::int64_t now,
                               std::string issued) {
  HASHDB_TRY(CheckIssuedText(issued));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.expires_at <= now ? entries_.erase(it) : std::next(it);
  }
  while (entries_.size() >= kMaxOutstandingNonces) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.expires_at < oldest->second.expires_at) oldest = it;
    }
    entries_.erase(oldest);
  }
  if (!entries_.emplace(nonce, Entry{expires_at, false, std::move(issued)}).second) {
    return MakeError(ErrorCode::kConflict, "nonce " + ToHex(nonce) + " was already issued");
  }
  return {};
}

Result<std::optional<std::string>> MemoryNonceStore::Issued(const Nonce& nonce) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(nonce);
  if (it == entries_.end() || it->second.used) return std::optional<std::string>();
  return std::optional<std::string>(it->second.issued);
}

Result<NonceStore::State> MemoryNonceStore::Consume(const Nonce& nonce) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(nonce);
  if (it == entries_.end()) return State::kUnknown;
  if (it->second.used) return State::kUsed;
  it->second.used = true;
  return State::kIssued;
}

namespace {

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("mkdir " + path);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoError("stat " + path);
  if (!S_ISDIR(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, path + ": not a directory");
  }
  return {};
}

Status SyncDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + path);
  if (::fsync(fd.get()) != 0) return ErrnoError("fsync " + path);
  return {};
}

struct StoredNonce {
  std::string path;
  std::int64_t expires_at;
};

// The entries of one subdirectory. A file whose content is not a number counts as expired at
// 0, so it is pruned rather than kept forever.
Result<std::vector<StoredNonce>> List(const std::string& dir) {
  std::vector<StoredNonce> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError("opendir " + dir);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    std::int64_t expires = 0;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.valid()) {
      char buf[32];
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) std::from_chars(buf, buf + n, expires);
    }
    out.push_back({path, expires});
  }
  ::closedir(d);
  return out;
}

}  // namespace

Result<std::unique_ptr<FileNonceStore>> FileNonceStore::Open(const std::string& dir) {
  HASHDB_TRY(MakeDir(dir));
  HASHDB_TRY(MakeDir(dir + "/issued"));
  HASHDB_TRY(MakeDir(dir + "/used"));
  return std::unique_ptr<FileNonceStore>(new FileNonceStore(dir));
}

Status FileNonceStore::Prune(std::int64_t now) {
  std::vector<StoredNonce> live;
  for (const char* sub : {"/issued", "/used"}) {
    auto entries = List(dir_ + sub);
    if (!entries.ok()) return entries.error();
    for (auto& e : *entries) {
      if (e.expires_at <= now) {
        if (::unlink(e.path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + e.path);
      } else {
        live.push_back(std::move(e));
      }
    }
  }
  while (live.size() >= kMaxOutstandingNonces) {
    auto oldest = live.begin();
    for (auto it = live.begin(); it != live.end(); ++it) {
      if (it->expires_at < oldest->expires_at) oldest = it;
    }
    if (::unlink(oldest->path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("unlink " + oldest->path);
    }
    live.erase(oldest);
  }
  return {};
}

Status FileNonceStore::Issue(const Nonce& nonce, std::int64_t expires_at, std::int64_t now,
                             std::string issued) {
  HASHDB_TRY(CheckIssuedText(issued));
  HASHDB_TRY(Prune(now));
  const std::string hex = ToHex(nonce);
  if (::access((dir_ + "/used/" + hex).c_str(), F_OK) == 0) {
    return MakeError(ErrorCode::kConflict, "nonce " + hex + " was already used");
  }
  const std::string path = dir_ + "/issued/" + hex;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) {
      return MakeError(ErrorCode::kConflict, "nonce " + hex + " was already issued");
    }
    return ErrnoError("create " + path);
  }
  const std::string content = std::to_string(expires_at) + "\n" + issued;
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    Status err = ErrnoError("write " + path);
    ::unlink(path.c_str());
    return err;
  }
  return {};
}

Result<std::optional<std::string>> FileNonceStore::Issued(const Nonce& nonce) {
  const std::string path = dir_ + "/issued/" + ToHex(nonce);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError("open " + path);
  }
  std::string content;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + path);
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > kMaxIssuedText + 32) {
      return MakeError(ErrorCode::kFormat, path + ": longer than an issued challenge can be");
    }
  }
  const auto nl = content.find('\n');
  if (nl == std::string::npos) {
    return MakeError(ErrorCode::kFormat, path + ": expected the expiry, a newline, the challenge");
  }
  return std::optional<std::string>(content.substr(nl + 1));
}

Result<NonceStore::State> FileNonceStore::Consume(const Nonce& nonce) {
  const std::string hex = ToHex(nonce);
  const std::string from = dir_ + "/issued/" + hex;
  const std::string to = dir_ + "/used/" + hex;
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    // Durable before the act proceeds: after a power loss the nonce must not come back as
    // issued, or the same authorization could be used twice.
    HASHDB_TRY(SyncDir(dir_ + "/used"));
    HASHDB_TRY(SyncDir(dir_ + "/issued"));
    return State::kIssued;
  }
  if (errno == EEXIST) {
    ::unlink(from.c_str());
    return State::kUsed;
  }
  if (errno != ENOENT) return ErrnoError("rename " + from + " to " + to);
  if (::access(to.c_str(), F_OK) == 0) return State::kUsed;
  return State::kUnknown;
}

}  // namespace hashdb
