#include "tools/token/token_finder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "tools/token/file_token.h"
#include "tools/token/pkcs11_token.h"
#include "tools/token/pkcs11_uri.h"
#include "tools/token/token_descriptor.h"

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;
using hashdb::Result;

namespace {

bool IsTokenFolder(const std::string& dir) {
  struct stat st;
  return ::stat((dir + "/" + std::string(kDescriptorFile)).c_str(), &st) == 0 &&
         S_ISREG(st.st_mode);
}

// mountinfo escapes blanks, tabs, newlines and backslashes in paths as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// path is prefix itself (a stick mounted straight on /mnt) or below it.
bool UnderPrefix(const std::string& path, const std::string& prefix) {
  if (path == prefix) return true;
  return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
         path[prefix.size()] == '/';
}

void ScanDir(const std::string& dir, int depth, std::set<std::string>& found) {
  const std::string candidate = dir + "/" + std::string(kTokenFolderName);
  if (IsTokenFolder(candidate)) found.insert(candidate);
  if (depth == 0) return;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> children;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == kTokenFolderName) continue;
    if (e->d_type == DT_DIR) children.push_back(dir + "/" + name);
  }
  ::closedir(d);
  for (const auto& child : children) ScanDir(child, depth - 1, found);
}

}  // namespace

TokenSearch DefaultTokenSearch() {
  TokenSearch search;
  if (const char* env = std::getenv("LOCKD_TOKEN_SEARCH_ROOTS"); env != nullptr && *env) {
    std::string_view list = env;
    while (!list.empty()) {
      std::size_t colon = list.find(':');
      std::string_view root = list.substr(0, colon);
      if (!root.empty()) search.roots.emplace_back(root);
      list = colon == std::string_view::npos ? std::string_view() : list.substr(colon + 1);
    }
  }
  return search;
}

Result<std::vector<std::string>> FindTokenFolders(const TokenSearch& search) {
  std::set<std::string> found;
  if (!search.roots.empty()) {
    for (const auto& root : search.roots) ScanDir(root, 2, found);
  } else {
    std::ifstream in(search.mountinfo);
    if (!in) return hashdb::ErrnoError("open " + search.mountinfo);
    std::string line;
    while (std::getline(in, line)) {
      // Field 5 (1-based) is the mount point.
      std::size_t pos = 0;
      for (int field = 0; field < 4 && pos != std::string::npos; ++field) {
        pos = line.find(' ', pos);
        if (pos != std::string::npos) ++pos;
      }
      if (pos == std::string::npos) continue;
      const std::string mount_point = Unescape(line.substr(pos, line.find(' ', pos) - pos));
      for (const auto& prefix : search.mount_prefixes) {
        if (UnderPrefix(mount_point, prefix)) {
          ScanDir(mount_point, 0, found);
          break;
        }
      }
    }
  }
  return std::vector<std::string>(found.begin(), found.end());
}

Result<std::string> ResolveTokenFolder(const std::string& spec, const TokenSearch& search) {
  if (!spec.empty()) {
    if (IsTokenFolder(spec)) return spec;
    const std::string inside = spec + "/" + std::string(kTokenFolderName);
    if (IsTokenFolder(inside)) return inside;
    return MakeError(ErrorCode::kNotFound,
                     spec + ": no token here (expected " + std::string(kDescriptorFile) + " or " +
                         std::string(kTokenFolderName) + "/" + std::string(kDescriptorFile) + ")");
  }
  auto found = FindTokenFolders(search);
  if (!found.ok()) return found.error();
  std::string where;
  for (const auto& r : search.roots.empty() ? search.mount_prefixes : search.roots) {
    where += (where.empty() ? "" : ", ") + r;
  }
  if (found->empty()) {
    return MakeError(ErrorCode::kNotFound, "no token found: no " + std::string(kTokenFolderName) +
                                               " folder on removable media under " + where +
                                               "; insert the token stick or name it with --token");
  }
  if (found->size() > 1) {
    std::string list;
    for (const auto& f : *found) list += (list.empty() ? "" : ", ") + f;
    return MakeError(ErrorCode::kInvalidArgument,
                     "several tokens found (" + list + "); choose one with --token");
  }
  return found->front();
}

Result<std::unique_ptr<Token>> OpenToken(const std::string& spec, const SecretSource& secret,
                                         const TokenSearch& search) {
  if (IsPkcs11Uri(spec)) {
    auto uri = ParsePkcs11Uri(spec);
    if (!uri.ok()) return uri.error();
    SecretSource pin_source = secret;
    if (!uri->pin_source.empty()) pin_source = SecretSource{-1, uri->pin_source};
    auto token = Pkcs11Token::Open(*uri, [&](const std::string& label) {
      return ReadSecret(pin_source, "PIN for PKCS#11 token \"" + label + "\": ");
    });
    if (!token.ok()) return token.error();
    return std::unique_ptr<Token>(std::move(*token));
  }
  auto folder = ResolveTokenFolder(spec, search);
  if (!folder.ok()) return folder.error();
  auto token = FileToken::Open(*folder, secret);
  if (!token.ok()) return token.error();
  return std::unique_ptr<Token>(std::move(*token));
}

}  // namespace lockctl
