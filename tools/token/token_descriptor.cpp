#include "tools/token/token_descriptor.h"

#include <array>
#include <optional>

#include "hashdb/digest.h"

namespace lockctl {

using hashdb::ErrorCode;
using hashdb::MakeError;

namespace {

constexpr std::string_view kFormat = "lockd-token-v1";
constexpr std::array<std::string_view, 7> kKeys{"format",    "token-id", "holder", "organisation",
                                                "not-after", "key-type", "key-id"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

hashdb::Result<TokenDescriptor> ParseTokenDescriptor(std::string_view text,
                                                     const std::string& source_name) {
  if (text.size() > kMaxDescriptorSize) {
    return MakeError(ErrorCode::kFormat, source_name + ": longer than " +
                                             std::to_string(kMaxDescriptorSize) + " bytes");
  }
  std::array<std::optional<std::string>, kKeys.size()> values;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    auto fail = [&](const std::string& what) {
      return MakeError(ErrorCode::kFormat,
                       source_name + ":" + std::to_string(line_no) + ": " + what);
    };
    if (line.empty() || line.front() == '#') continue;
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail("expected \"key = value\"");
    std::string_view key = Trim(line.substr(0, eq));
    std::string_view value = Trim(line.substr(eq + 1));
    for (unsigned char c : value) {
      if (c < 0x20 || c == 0x7f) return fail("value contains a control character");
    }
    if (value.size() > hashdb::kMaxFieldSize) return fail("value is too long");
    std::size_t i = 0;
    while (i < kKeys.size() && kKeys[i] != key) ++i;
    if (i == kKeys.size()) return fail("unknown key \"" + std::string(key) + "\"");
    if (values[i]) return fail("\"" + std::string(key) + "\" given twice");
    values[i] = std::string(value);
  }
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    if (!values[i]) {
      return MakeError(ErrorCode::kFormat,
                       source_name + ": missing \"" + std::string(kKeys[i]) + "\"");
    }
  }
  auto bad = [&](const std::string& what) {
    return MakeError(ErrorCode::kFormat, source_name + ": " + what);
  };
  if (*values[0] != kFormat) {
    return bad("format \"" + *values[0] + "\" is not " + std::string(kFormat));
  }
  TokenDescriptor d;
  d.info.token_id = *values[1];
  d.info.holder = *values[2];
  d.info.organisation = *values[3];
  d.info.not_after = *values[4];
  if (d.info.token_id.empty()) return bad("token-id is empty");
  if (d.info.holder.empty()) return bad("holder is empty");
  if (!hashdb::EndOfDayUtc(d.info.not_after)) {
    return bad("not-after \"" + d.info.not_after + "\" is not a date YYYY-MM-DD");
  }
  if (*values[5] == hashdb::AlgorithmName(hashdb::SignatureAlgorithm::kEcdsaP256Sha256)) {
    d.key_type = hashdb::SignatureAlgorithm::kEcdsaP256Sha256;
  } else if (*values[5] == hashdb::AlgorithmName(hashdb::SignatureAlgorithm::kEd25519)) {
    d.key_type = hashdb::SignatureAlgorithm::kEd25519;
  } else {
    return bad("key-type \"" + *values[5] + "\" is not ecdsa-p256 or ed25519");
  }
  auto key_id = hashdb::DigestFromHex(*values[6]);
  if (!key_id) return bad("key-id must be 64 hex digits");
  d.key_id = *key_id;
  return d;
}

std::string SerializeTokenDescriptor(const TokenDescriptor& d) {
  std::string out = "# lockd file token: see docs/runbook.md. The key is key.pem (encrypted).\n";
  auto line = [&](std::string_view k, std::string_view v) {
    out.append(k).append(" = ").append(v).append("\n");
  };
  line("format", kFormat);
  line("token-id", d.info.token_id);
  line("holder", d.info.holder);
  line("organisation", d.info.organisation);
  line("not-after", d.info.not_after);
  line("key-type", hashdb::AlgorithmName(d.key_type));
  line("key-id", hashdb::ToHex(d.key_id));
  return out;
}

}  // namespace lockctl
