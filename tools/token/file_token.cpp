#include "tools/token/file_token.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashdb/digest.h"
#include "hashdb/small_file.h"
#include "hashdb/unique_fd.h"

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::Result;
using hashdb::Status;

namespace {

// Writes a new file (O_EXCL) and fsyncs it, so a stick pulled right after `token create`
// returned holds the whole token.
Status WriteNewFile(const std::string& path, std::string_view content, mode_t mode) {
  hashdb::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return hashdb::ErrnoError("create " + path);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return hashdb::ErrnoError("write " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return hashdb::ErrnoError("fsync " + path);
  return {};
}

Status MakeEmptyDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return {};
  if (errno != EEXIST) return hashdb::ErrnoError("mkdir " + dir);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return hashdb::ErrnoError("opendir " + dir);
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") empty = false;
  }
  ::closedir(d);
  if (!empty) {
    return MakeError(ErrorCode::kConflict,
                     dir + ": exists and is not empty; will not overwrite a token");
  }
  return {};
}

}  // namespace

Result<TokenDescriptor> FileToken::ReadDescriptor(const std::string& dir) {
  const std::string path = dir + "/" + std::string(kDescriptorFile);
  auto text = hashdb::ReadSmallFile(path, kMaxDescriptorSize);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, dir + ": not a lockd token folder (no " +
                                                 std::string(kDescriptorFile) + ")");
    }
    return text.error();
  }
  return ParseTokenDescriptor(*text, path);
}

Result<std::unique_ptr<FileToken>> FileToken::Open(const std::string& dir,
                                                   const SecretSource& secret) {
  auto descriptor = ReadDescriptor(dir);
  if (!descriptor.ok()) return descriptor.error();
  const std::string key_path = dir + "/" + std::string(kPrivateKeyFile);
  if (::access(key_path.c_str(), R_OK) != 0) return hashdb::ErrnoError("open " + key_path);
  auto passphrase = ReadSecret(secret, "Passphrase for token " + descriptor->info.token_id + " (" +
                                           descriptor->info.holder + "): ");
  if (!passphrase.ok()) return passphrase.error();
  auto key = hashdb::PrivateKey::FromPemFile(key_path, passphrase->value());
  if (!key.ok()) return key.error().Wrap("file token " + dir);
  if ((*key)->public_key().id() != descriptor->key_id) {
    return MakeError(ErrorCode::kFormat, key_path + ": holds key " +
                                             hashdb::ToHex((*key)->public_key().id()) + ", but " +
                                             std::string(kDescriptorFile) + " names key " +
                                             hashdb::ToHex(descriptor->key_id));
  }
  return std::unique_ptr<FileToken>(new FileToken(dir, std::move(*descriptor), std::move(*key)));
}

Result<TokenDescriptor> FileToken::Create(const std::string& dir, hashdb::TokenInfo info,
                                          hashdb::SignatureAlgorithm key_type,
                                          const std::string& passphrase) {
  if (passphrase.size() < kMinPassphraseSize) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "passphrase shorter than " + std::to_string(kMinPassphraseSize) + " characters");
  }
  for (auto [what, value] : {std::pair<const char*, const std::string&>{"holder", info.holder},
                             {"organisation", info.organisation}}) {
    if (value.empty() || value.size() > hashdb::kMaxFieldSize) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          std::string(what) + " must be 1 to " + std::to_string(hashdb::kMaxFieldSize) + " bytes");
    }
    for (unsigned char ch : value) {
      if (ch < 0x20 || ch == 0x7f) {
        return MakeError(ErrorCode::kInvalidArgument,
                         std::string(what) + " contains a control character");
      }
    }
  }
  std::uint8_t raw_id[16];
  if (RAND_bytes(raw_id, sizeof raw_id) != 1) {
    return MakeError(ErrorCode::kCrypto, "random token id: " + hashdb::OpenSslErrors());
  }
  info.token_id = hashdb::ToHex(raw_id, sizeof raw_id);
  TokenDescriptor d{std::move(info), key_type, {}};
  // Round-trip the descriptor before writing anything, so a holder name the parser would
  // refuse (control characters, too long, bad date) fails here and not on the terminal.
  auto key = hashdb::PrivateKey::Generate(key_type);
  if (!key.ok()) return key.error();
  d.key_id = (*key)->public_key().id();
  const std::string descriptor_text = SerializeTokenDescriptor(d);
  auto check = ParseTokenDescriptor(descriptor_text, "new token descriptor");
  if (!check.ok()) return check.error();
  if (check->info.holder != d.info.holder || check->info.organisation != d.info.organisation) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "holder and organisation must not start or end with blanks");
  }
  auto pem = (*key)->ToPkcs8Pem(passphrase);
  if (!pem.ok()) return pem.error();

  HASHDB_TRY(MakeEmptyDir(dir));
  HASHDB_TRY(WriteNewFile(dir + "/" + std::string(kPrivateKeyFile), *pem, 0600));
  HASHDB_TRY(
      WriteNewFile(dir + "/" + std::string(kPublicKeyFile), (*key)->public_key().ToPem(), 0644));
  // The descriptor last: a folder without token.conf is not taken for a token.
  HASHDB_TRY(WriteNewFile(dir + "/" + std::string(kDescriptorFile), descriptor_text, 0644));
  hashdb::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.valid()) ::fsync(dfd.get());
  return d;
}

}  // namespace lockctl
