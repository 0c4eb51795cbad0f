#include "tools/token/file_token.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hashdb/digest.h"
#include "hashdb/small_file.h"
#include "hashdb/unique_fd.h"
#include "tools/token/passphrase_policy.h"

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

Status FsyncDir(const std::string& dir) {
  hashdb::UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd.valid()) return hashdb::ErrnoError("open " + dir);
  if (::fsync(dfd.get()) != 0) return hashdb::ErrnoError("fsync " + dir);
  return {};
}

// Replaces path with content so that a crash or a pulled stick leaves the old file or the new
// one, both whole: a temporary file beside it, fsynced, renamed over it, the folder fsynced.
// Not hashdb::WriteFileAtomically: that one fchmods its temporary file, which vfat (the usual
// stick) refuses for 0600; here the mode is given at creation, as token create does.
Status ReplaceFile(const std::string& dir, const std::string& path, std::string_view content,
                   mode_t mode) {
  const std::string tmp = path + ".new";
  // A leftover of an interrupted rekey: it never replaced path, so path is still the key.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return hashdb::ErrnoError("remove " + tmp);
  if (Status s = WriteNewFile(tmp, content, mode); !s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    hashdb::Error e = hashdb::ErrnoError("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  return FsyncDir(dir);
}

Result<std::string> ReadKeyText(const std::string& key_path) {
  // Key files are small; the cap keeps a wrong path (a device, a log) from being read whole.
  return hashdb::ReadSmallFile(key_path, 64 * 1024);
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

Result<hashdb::KeyProtection> FileToken::ReadKeyProtection(const std::string& dir) {
  const std::string key_path = dir + "/" + std::string(kPrivateKeyFile);
  auto text = ReadKeyText(key_path);
  if (!text.ok()) return text.error();
  return hashdb::InspectKeyProtection(*text, key_path);
}

namespace {

// Decrypts key_path's text with the passphrase secret gives and checks it is the key the
// descriptor names.
Result<std::unique_ptr<hashdb::PrivateKey>> UnlockKey(const std::string& key_path,
                                                      const std::string& text,
                                                      const TokenDescriptor& descriptor,
                                                      const SecretSource& secret,
                                                      const std::string& prompt) {
  auto passphrase = ReadSecret(secret, prompt);
  if (!passphrase.ok()) return passphrase.error();
  auto key = hashdb::PrivateKey::FromPem(text, key_path, passphrase->value());
  if (!key.ok()) return key.error();
  if ((*key)->public_key().id() != descriptor.key_id) {
    return MakeError(ErrorCode::kFormat, key_path + ": holds key " +
                                             hashdb::ToHex((*key)->public_key().id()) + ", but " +
                                             std::string(kDescriptorFile) + " names key " +
                                             hashdb::ToHex(descriptor.key_id));
  }
  return key;
}

std::string PromptFor(const TokenDescriptor& d, std::string_view what) {
  return std::string(what) + " for token " + d.info.token_id + " (" + d.info.holder + "): ";
}

}  // namespace

Result<std::unique_ptr<FileToken>> FileToken::Open(const std::string& dir,
                                                   const SecretSource& secret) {
  auto descriptor = ReadDescriptor(dir);
  if (!descriptor.ok()) return descriptor.error();
  const std::string key_path = dir + "/" + std::string(kPrivateKeyFile);
  auto text = ReadKeyText(key_path);
  if (!text.ok()) return text.error().Wrap("file token " + dir);
  auto protection = hashdb::InspectKeyProtection(*text, key_path);
  if (!protection.ok()) return protection.error().Wrap("file token " + dir);
  auto key = UnlockKey(key_path, *text, *descriptor, secret, PromptFor(*descriptor, "Passphrase"));
  OPENSSL_cleanse(text->data(), text->size());
  if (!key.ok()) return key.error().Wrap("file token " + dir);
  return std::unique_ptr<FileToken>(
      new FileToken(dir, std::move(*descriptor), std::move(*key), std::move(*protection)));
}

Result<hashdb::KeyProtection> FileToken::Rekey(const std::string& dir,
                                               const SecretSource& old_secret,
                                               const SecretSource& new_secret,
                                               const hashdb::ScryptParams& kdf) {
  auto descriptor = ReadDescriptor(dir);
  if (!descriptor.ok()) return descriptor.error();
  const std::string key_path = dir + "/" + std::string(kPrivateKeyFile);
  auto text = ReadKeyText(key_path);
  if (!text.ok()) return text.error();
  auto old_protection = hashdb::InspectKeyProtection(*text, key_path);
  if (!old_protection.ok()) return old_protection.error();
  if (old_protection->kdf == hashdb::KeyKdf::kNone) {
    return MakeError(ErrorCode::kInvalidArgument,
                     key_path +
                         ": the key is not encrypted; this is no key lockctl made, and "
                         "an unencrypted key may have been copied: make a new token");
  }
  auto key = UnlockKey(key_path, *text, *descriptor, old_secret,
                       PromptFor(*descriptor, "Current passphrase"));
  if (!key.ok()) return key.error();
  auto passphrase = ReadSecret(new_secret, PromptFor(*descriptor, "New passphrase"), true);
  if (!passphrase.ok()) return passphrase.error();
  HASHDB_TRY(CheckNewPassphrase(
      passphrase->value(),
      {descriptor->info.holder, descriptor->info.organisation, descriptor->info.token_id}));
  auto pem = (*key)->ToEncryptedPkcs8Pem(passphrase->value(), kdf);
  if (!pem.ok()) return pem.error();
  // Read back what is about to replace the only copy of the key.
  auto check = hashdb::PrivateKey::FromPem(*pem, key_path + " (re-encrypted)", passphrase->value());
  if (!check.ok()) return check.error();
  if ((*check)->public_key().id() != descriptor->key_id) {
    return MakeError(ErrorCode::kCrypto, key_path + ": the re-encrypted key does not read back");
  }
  auto protection = hashdb::InspectKeyProtection(*pem, key_path);
  if (!protection.ok()) return protection.error();
  HASHDB_TRY(ReplaceFile(dir, key_path, *pem, 0600));
  return protection;
}

Result<TokenDescriptor> FileToken::Create(const std::string& dir, hashdb::TokenInfo info,
                                          hashdb::SignatureAlgorithm key_type,
                                          const std::string& passphrase,
                                          const hashdb::ScryptParams& kdf) {
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
  HASHDB_TRY(CheckNewPassphrase(passphrase, {info.holder, info.organisation, info.token_id}));
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
  auto pem = (*key)->ToEncryptedPkcs8Pem(passphrase, kdf);
  if (!pem.ok()) return pem.error();

  HASHDB_TRY(MakeEmptyDir(dir));
  HASHDB_TRY(WriteNewFile(dir + "/" + std::string(kPrivateKeyFile), *pem, 0600));
  HASHDB_TRY(
      WriteNewFile(dir + "/" + std::string(kPublicKeyFile), (*key)->public_key().ToPem(), 0644));
  // The descriptor last: a folder without token.conf is not taken for a token.
  HASHDB_TRY(WriteNewFile(dir + "/" + std::string(kDescriptorFile), descriptor_text, 0644));
  HASHDB_TRY(FsyncDir(dir));
  return d;
}

}  // namespace lockctl
