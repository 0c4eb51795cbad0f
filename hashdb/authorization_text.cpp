// Text forms of Challenge and Authorization (docs/authorization.md): a header line, then
// "key: value" lines in a fixed order.
#include <charconv>

#include "hashdb/authorization.h"
#include "hashdb/digest.h"

namespace hashdb {

namespace {

constexpr std::string_view kChallengeHeader = "lockd-challenge-v1";
constexpr std::string_view kAuthorizationHeader = "lockd-authorization-v1";

void Line(std::string& out, std::string_view key, std::string_view value) {
  out.append(key).append(":");
  if (!value.empty()) out.append(" ").append(value);
  out.append("\n");
}

void ChallengeLines(std::string& out, const Challenge& c) {
  Line(out, "nonce", ToHex(c.nonce.data(), c.nonce.size()));
  Line(out, "terminal", c.terminal_id);
  Line(out, "act", ActName(c.act));
  Line(out, "argument", c.argument);
  Line(out, "issued-at", std::to_string(c.issued_at));
  Line(out, "expires-at", std::to_string(c.expires_at));
}

// Reads the lines of one text object in order, with errors that name the source and line.
class Reader {
 public:
  Reader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Error Fail(const std::string& what) const {
    return MakeError(ErrorCode::kFormat, source_ + ":" + std::to_string(line_no_) + ": " + what);
  }

  Result<std::string_view> NextLine() {
    ++line_no_;
    if (pos_ >= text_.size()) return Fail("unexpected end of text");
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return line;
  }

  Status Header(std::string_view expected) {
    auto line = NextLine();
    if (!line.ok()) return line.error();
    if (*line != expected) return Fail("expected \"" + std::string(expected) + "\"");
    return {};
  }

  // The value of the next line, which must be "key: value" (or "key:" for "").
  Result<std::string> Field(std::string_view key) {
    auto line = NextLine();
    if (!line.ok()) return line.error();
    if (line->substr(0, key.size()) != key || line->substr(key.size(), 1) != ":") {
      return Fail("expected \"" + std::string(key) + ":\"");
    }
    std::string_view value = line->substr(key.size() + 1);
    if (!value.empty()) {
      if (value[0] != ' ') return Fail("expected a space after \"" + std::string(key) + ":\"");
      value.remove_prefix(1);
    }
    if (value.size() > kMaxFieldSize) return Fail(std::string(key) + " is too long");
    for (unsigned char ch : value) {
      if (ch < 0x20 || ch == 0x7f) return Fail(std::string(key) + " contains a control character");
    }
    return std::string(value);
  }

  Result<std::int64_t> Number(std::string_view key) {
    auto v = Field(key);
    if (!v.ok()) return v.error();
    std::int64_t n = 0;
    auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || (*v)[0] == '-' || r.ec != std::errc() || r.ptr != v->data() + v->size()) {
      return Fail(std::string(key) + " must be a non-negative decimal number");
    }
    return n;
  }

  Result<std::vector<std::uint8_t>> Hex(std::string_view key, std::size_t min, std::size_t max) {
    auto v = Field(key);
    if (!v.ok()) return v.error();
    if (v->size() % 2 != 0 || v->size() < 2 * min || v->size() > 2 * max) {
      return Fail(std::string(key) + " must be " + std::to_string(min) + " to " +
                  std::to_string(max) + " bytes in hex");
    }
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < v->size(); i += 2) {
      unsigned byte = 0;
      auto r = std::from_chars(v->data() + i, v->data() + i + 2, byte, 16);
      if (r.ec != std::errc() || r.ptr != v->data() + i + 2) {
        return Fail(std::string(key) + " is not hex");
      }
      out.push_back(static_cast<std::uint8_t>(byte));
    }
    return out;
  }

  Status End() {
    if (pos_ < text_.size()) {
      ++line_no_;
      return Fail("unexpected text after the last field");
    }
    return {};
  }

 private:
  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
  int line_no_ = 0;
};

#define READ_INTO(var, expr)                             \
  do {                                                   \
    auto read_result_ = (expr);                          \
    if (!read_result_.ok()) return read_result_.error(); \
    var = std::move(*read_result_);                      \
  } while (0)

Status ReadChallengeLines(Reader& r, Challenge& c) {
  std::vector<std::uint8_t> nonce;
  READ_INTO(nonce, r.Hex("nonce", c.nonce.size(), c.nonce.size()));
  std::copy(nonce.begin(), nonce.end(), c.nonce.begin());
  READ_INTO(c.terminal_id, r.Field("terminal"));
  std::string act;
  READ_INTO(act, r.Field("act"));
  auto parsed = ActFromName(act);
  if (!parsed) return r.Fail("unknown act \"" + act + "\"");
  c.act = *parsed;
  READ_INTO(c.argument, r.Field("argument"));
  READ_INTO(c.issued_at, r.Number("issued-at"));
  READ_INTO(c.expires_at, r.Number("expires-at"));
  return {};
}

}  // namespace

std::string SerializeChallenge(const Challenge& c) {
  std::string out(kChallengeHeader);
  out += "\n";
  ChallengeLines(out, c);
  return out;
}

std::string SerializeAuthorization(const Authorization& a) {
  std::string out(kAuthorizationHeader);
  out += "\n";
  ChallengeLines(out, a.challenge);
  Line(out, "token-id", a.token.token_id);
  Line(out, "holder", a.token.holder);
  Line(out, "organisation", a.token.organisation);
  Line(out, "not-after", a.token.not_after);
  Line(out, "key-id", ToHex(a.key_id));
  Line(out, "signature", ToHex(a.signature.data(), a.signature.size()));
  return out;
}

Result<Challenge> ParseChallenge(std::string_view text, const std::string& source_name) {
  if (text.size() > kMaxAuthorizationText) {
    return MakeError(ErrorCode::kFormat, source_name + ": challenge longer than " +
                                             std::to_string(kMaxAuthorizationText) + " bytes");
  }
  Reader r(text, source_name);
  Challenge c;
  HASHDB_TRY(r.Header(kChallengeHeader));
  HASHDB_TRY(ReadChallengeLines(r, c));
  HASHDB_TRY(r.End());
  return c;
}

Result<Authorization> ParseAuthorization(std::string_view text, const std::string& source_name) {
  if (text.size() > kMaxAuthorizationText) {
    return MakeError(ErrorCode::kFormat, source_name + ": authorization longer than " +
                                             std::to_string(kMaxAuthorizationText) + " bytes");
  }
  Reader r(text, source_name);
  Authorization a;
  HASHDB_TRY(r.Header(kAuthorizationHeader));
  HASHDB_TRY(ReadChallengeLines(r, a.challenge));
  READ_INTO(a.token.token_id, r.Field("token-id"));
  READ_INTO(a.token.holder, r.Field("holder"));
  READ_INTO(a.token.organisation, r.Field("organisation"));
  READ_INTO(a.token.not_after, r.Field("not-after"));
  std::vector<std::uint8_t> key_id;
  READ_INTO(key_id, r.Hex("key-id", kDigestSize, kDigestSize));
  std::copy(key_id.begin(), key_id.end(), a.key_id.begin());
  READ_INTO(a.signature, r.Hex("signature", 1, 512));
  HASHDB_TRY(r.End());
  return a;
}

}  // namespace hashdb
