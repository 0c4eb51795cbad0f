#include "tools/export/bundle.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "hashdb/atomic_file.h"
#include "hashdb/digest.h"
#include "hashdb/sha256.h"
#include "hashdb/unique_fd.h"
#include "tools/export/tar.h"

namespace lockctl::exporttool {
namespace {

using hashdb::ErrorCode;
using hashdb::MakeError;

constexpr std::string_view kSignatureMagic = "lockd-export-signature-v1";

std::string Sha256Hex(std::string_view bytes) {
  return hashdb::ToHex(
      hashdb::Sha256({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}));
}

std::optional<std::vector<std::uint8_t>> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

hashdb::Result<std::string> ReadWholeFd(int fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return hashdb::ErrnoError("stat " + name);
  if (static_cast<std::uint64_t>(st.st_size) > kMaxTarMember) {
    return MakeError(ErrorCode::kFormat, name + ": larger than 2 GiB");
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  std::string buf(1 << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("read " + name);
    }
    if (n == 0) return out;
    out.append(buf.data(), static_cast<std::size_t>(n));
    if (out.size() > kMaxTarMember)
      return MakeError(ErrorCode::kFormat, name + ": larger than 2 GiB");
  }
}

hashdb::Status ReadDir(int dir_fd, const std::string& path, const std::string& prefix,
                       BundleContents& out, int depth) {
  hashdb::UniqueFd fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  DIR* d = ::fdopendir(fd.Release());
  if (!d) return hashdb::ErrnoError("opendir " + path);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    const std::string rel = prefix + n;
    struct stat st {};
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return hashdb::ErrnoError("stat " + path + "/" + n);
    }
    if (!IsSafeMemberName(rel)) {
      out.irregular.push_back(rel + " (not a plain name)");
    } else if (S_ISDIR(st.st_mode) && depth < 4) {
      hashdb::UniqueFd sub(
          ::openat(dir_fd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return hashdb::ErrnoError("open " + path + "/" + n);
      HASHDB_TRY(ReadDir(sub.get(), path + "/" + n, rel + "/", out, depth + 1));
    } else if (S_ISREG(st.st_mode)) {
      hashdb::UniqueFd f(::openat(dir_fd, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!f.valid()) return hashdb::ErrnoError("open " + path + "/" + n);
      auto bytes = ReadWholeFd(f.get(), path + "/" + n);
      if (!bytes) return bytes.error();
      out.files.emplace(rel, std::move(*bytes));
    } else {
      out.irregular.push_back(
          rel + (S_ISLNK(st.st_mode) ? " (a symbolic link)" : " (not a regular file)"));
    }
  }
  return {};
}

hashdb::Status WriteAll(int fd, std::string_view bytes, const std::string& name) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("write " + name);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

std::string MakeManifest(const Files& files) {
  std::string out;
  for (const auto& [name, bytes] : files) {
    if (name == kManifestName || name == kSignatureName) continue;
    out += Sha256Hex(bytes) + "  " + name + "\n";
  }
  return out;
}

hashdb::Result<std::vector<ManifestEntry>> ParseManifest(std::string_view text) {
  std::vector<ManifestEntry> entries;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    auto bad = [&](const std::string& what) {
      return MakeError(ErrorCode::kFormat,
                       std::string(kManifestName) + ":" + std::to_string(line_no) + ": " + what);
    };
    if (nl == std::string_view::npos) return bad("last line does not end with a newline");
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.size() < 67 || line.substr(64, 2) != "  ") {
      return bad("expected \"<64 hex digits>  <name>\"");
    }
    ManifestEntry e{std::string(line.substr(0, 64)), std::string(line.substr(66))};
    if (e.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad("SHA-256 is not 64 lower-case hex digits");
    }
    if (!IsSafeMemberName(e.name) || e.name == kManifestName || e.name == kSignatureName) {
      return bad("\"" + e.name + "\" is not a bundle file name");
    }
    if (!entries.empty() && entries.back().name >= e.name) {
      return bad("\"" + e.name + "\" is out of order or listed twice");
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

std::vector<std::uint8_t> ManifestSignedBytes(std::string_view manifest) {
  std::vector<std::uint8_t> bytes(kExportDomain.size() + manifest.size());
  std::copy(kExportDomain.begin(), kExportDomain.end(), bytes.begin());
  std::copy(manifest.begin(), manifest.end(),
            bytes.begin() + static_cast<long>(kExportDomain.size()));
  return bytes;
}

hashdb::Result<std::string> SignManifest(std::string_view manifest, hashdb::Signer& signer) {
  auto sig = signer.Sign(ManifestSignedBytes(manifest));
  if (!sig) return sig.error();
  const auto& key = signer.public_key();
  return std::string(kSignatureMagic) +
         "\nalgorithm: " + std::string(hashdb::AlgorithmName(key.algorithm())) +
         "\nkey-id: " + hashdb::ToHex(key.id()) +
         "\nsignature: " + hashdb::ToHex(sig->data(), sig->size()) + "\n";
}

hashdb::Result<ManifestSignature> ParseManifestSignature(std::string_view text,
                                                         const std::string& source) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return MakeError(ErrorCode::kFormat, source + ": last line does not end with a newline");
    }
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  static constexpr std::string_view kKeys[] = {"algorithm: ", "key-id: ", "signature: "};
  if (lines.size() != 4 || lines[0] != kSignatureMagic) {
    return MakeError(ErrorCode::kFormat, source + ": expected \"" + std::string(kSignatureMagic) +
                                             "\" and the lines algorithm, key-id, signature");
  }
  std::string_view values[3];
  for (int i = 0; i < 3; ++i) {
    if (!lines[i + 1].starts_with(kKeys[i])) {
      return MakeError(ErrorCode::kFormat, source + ":" + std::to_string(i + 2) + ": expected \"" +
                                               std::string(kKeys[i]) + "...\"");
    }
    values[i] = lines[i + 1].substr(kKeys[i].size());
  }
  ManifestSignature s;
  if (values[0] == hashdb::AlgorithmName(hashdb::SignatureAlgorithm::kEcdsaP256Sha256)) {
    s.algorithm = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  } else if (values[0] == hashdb::AlgorithmName(hashdb::SignatureAlgorithm::kEd25519)) {
    s.algorithm = hashdb::SignatureAlgorithm::kEd25519;
  } else {
    return MakeError(ErrorCode::kFormat, source + ":2: unknown algorithm");
  }
  auto id = hashdb::DigestFromHex(values[1]);
  if (!id || values[1].find_first_not_of("0123456789abcdef") != std::string::npos) {
    return MakeError(ErrorCode::kFormat, source + ":3: key-id is not 64 lower-case hex digits");
  }
  s.key_id = *id;
  auto sig = FromHex(values[2]);
  if (!sig || sig->empty() || sig->size() > 512) {
    return MakeError(ErrorCode::kFormat, source + ":4: signature is not lower-case hex");
  }
  s.signature = std::move(*sig);
  return s;
}

hashdb::Status WriteBundleDirectory(const std::string& dir, const Files& files) {
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return hashdb::ErrnoError("mkdir " + dir);
  hashdb::UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) return hashdb::ErrnoError("open " + dir);
  {
    hashdb::UniqueFd probe(::openat(root.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = probe.valid() ? ::fdopendir(probe.Release()) : nullptr;
    if (!d) return hashdb::ErrnoError("opendir " + dir);
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
      const std::string_view n = e->d_name;
      if (n != "." && n != "..") empty = false;
    }
    ::closedir(d);
    if (!empty) {
      return MakeError(ErrorCode::kConflict,
                       dir + ": exists and is not empty (a bundle is never written over files)");
    }
  }
  std::vector<int> dirs_to_sync;
  std::map<std::string, hashdb::UniqueFd> subdirs;
  for (const auto& [name, bytes] : files) {
    if (!IsSafeMemberName(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "bundle file name \"" + name + "\" is not plain");
    }
    int parent = root.get();
    std::string base = name;
    const auto slash = name.rfind('/');
    if (slash != std::string::npos) {
      const std::string sub = name.substr(0, slash);
      base = name.substr(slash + 1);
      if (!subdirs.count(sub)) {
        // Only one level of sub-folders (audit/) is used.
        if (::mkdirat(root.get(), sub.c_str(), 0750) != 0 && errno != EEXIST) {
          return hashdb::ErrnoError("mkdir " + dir + "/" + sub);
        }
        hashdb::UniqueFd sfd(
            ::openat(root.get(), sub.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sfd.valid()) return hashdb::ErrnoError("open " + dir + "/" + sub);
        subdirs.emplace(sub, std::move(sfd));
      }
      parent = subdirs.at(sub).get();
    }
    const std::string path = dir + "/" + name;
    hashdb::UniqueFd fd(
        ::openat(parent, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640));
    if (!fd.valid()) return hashdb::ErrnoError("create " + path);
    HASHDB_TRY(WriteAll(fd.get(), bytes, path));
    if (::fsync(fd.get()) != 0) return hashdb::ErrnoError("fsync " + path);
  }
  for (auto& [sub, fd] : subdirs) {
    if (::fsync(fd.get()) != 0) return hashdb::ErrnoError("fsync " + dir + "/" + sub);
  }
  if (::fsync(root.get()) != 0) return hashdb::ErrnoError("fsync " + dir);
  return {};
}

hashdb::Status WriteBundleTar(const std::string& path, const Files& files, std::int64_t mtime) {
  auto tar = WriteTar(files, mtime);
  if (!tar) return tar.error();
  return hashdb::WriteFileAtomically(
      path, {reinterpret_cast<const std::uint8_t*>(tar->data()), tar->size()}, 0640,
      hashdb::Replace::kRefuse);
}

hashdb::Result<BundleContents> ReadBundle(const std::string& path) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return hashdb::ErrnoError("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return hashdb::ErrnoError("stat " + path);
  BundleContents out;
  if (S_ISDIR(st.st_mode)) {
    HASHDB_TRY(ReadDir(fd.get(), path, "", out, 0));
    return out;
  }
  auto bytes = ReadWholeFd(fd.get(), path);
  if (!bytes) return bytes.error();
  auto files = ReadTar(*bytes, path);
  if (!files) return files.error();
  out.files = std::move(*files);
  return out;
}

}  // namespace lockctl::exporttool
