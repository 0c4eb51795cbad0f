#include "audit/json_parse.h"

#include <nlohmann/json.hpp>

#include <exception>

namespace lockd::audit {
namespace {

using hashdb::ErrorCode;
using hashdb::MakeError;
using Json = nlohmann::json;

// Error messages quote input (a key, nlohmann's last token); they end up on terminals, so
// everything but printable ASCII is written as \xNN.
std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  }
  return out;
}

// Builds a JsonValue from nlohmann's SAX events and adds the checks nlohmann does not make.
// A callback returning false stops the parse at once; error_ then says why.
class Builder final : public nlohmann::json_sax<Json> {
 public:
  // The finished value, when the parse succeeded.
  JsonValue& result() { return root_; }
  const std::string& error() const { return error_; }

  bool null() override {
    Add();
    return true;
  }
  bool boolean(bool b) override {
    JsonValue& v = Add();
    v.type = JsonValue::Type::kBool;
    v.boolean = b;
    return true;
  }
  bool number_integer(number_integer_t n) override {  // nlohmann: negative integers only
    JsonValue& v = Add();
    v.type = JsonValue::Type::kInt;
    v.int_value = n;
    return true;
  }
  bool number_unsigned(number_unsigned_t n) override {
    JsonValue& v = Add();
    v.type = JsonValue::Type::kUint;
    v.uint_value = n;
    return true;
  }
  bool number_float(number_float_t, const string_t& text) override {
    // Also what nlohmann makes of an integer beyond 64 bits.
    return Fail("number " + Printable(text) +
                ": not an integer that fits in 64 bits (audit records hold integers only)");
  }
  bool string(string_t& s) override {
    JsonValue& v = Add();
    v.type = JsonValue::Type::kString;
    v.string = std::move(s);
    return true;
  }
  bool binary(binary_t&) override { return Fail("binary value"); }  // not produced from JSON text

  bool start_object(std::size_t) override { return Open(JsonValue::Type::kObject); }
  bool key(string_t& k) override {
    JsonValue& object = *open_.back();
    if (object.object.size() >= kMaxJsonMembers) {
      return Fail("more than " + std::to_string(kMaxJsonMembers) + " members in an object");
    }
    if (object.Find(k) != nullptr) return Fail("duplicate key \"" + Printable(k) + "\"");
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(JsonValue::Type::kArray); }
  bool end_array() override { return Close(); }

  bool parse_error(std::size_t position, const std::string&, const Json::exception& e) override {
    // what(): "[json.exception.parse_error.101] parse error at line 1, column 11: <reason>";
    // position counts the bytes read, the offending one included.
    std::string reason = e.what();
    const std::size_t column = reason.find("column ");
    const std::size_t colon = reason.find(": ", column == std::string::npos ? 0 : column);
    if (colon != std::string::npos) reason.erase(0, colon + 2);
    return Fail("byte " + std::to_string(position > 0 ? position - 1 : 0) + ": " +
                Printable(reason));
  }

 private:
  bool Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  // A new null value, in place: the document, the next array element or the member named by
  // the last key.
  JsonValue& Add() {
    if (open_.empty()) return root_;
    JsonValue& parent = *open_.back();
    if (parent.type == JsonValue::Type::kArray) return parent.array.emplace_back();
    return parent.object.emplace_back(JsonMember{std::move(key_), {}}).value;
  }

  // The document is depth 1; a container deeper than kMaxJsonDepth is refused. A container's
  // address stays valid while it is open: only its own (innermost) vector grows meanwhile.
  bool Open(JsonValue::Type type) {
    if (open_.size() + 1 > static_cast<std::size_t>(kMaxJsonDepth)) {
      return Fail("nesting deeper than " + std::to_string(kMaxJsonDepth));
    }
    JsonValue& v = Add();
    v.type = type;
    open_.push_back(&v);
    return true;
  }

  bool Close() {
    open_.pop_back();
    return true;
  }

  JsonValue root_;
  std::vector<JsonValue*> open_;  // the containers being filled, outermost first
  std::string key_;               // the key of the member whose value comes next
  std::string error_;
};

}  // namespace

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& member : object) {
    if (member.key == key) return &member.value;
  }
  return nullptr;
}

hashdb::Result<JsonValue> ParseJson(std::string_view text) {
  // nlohmann skips a leading UTF-8 byte order mark; JSON text has none (RFC 8259 8.1).
  if (text.substr(0, 3) == "\xef\xbb\xbf") {
    return MakeError(ErrorCode::kFormat, "byte 0: a byte order mark is not JSON");
  }
  Builder builder;
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::exception& e) {  // the SAX interface reports errors; this is a backstop
    return MakeError(ErrorCode::kFormat, std::string("JSON: ") + e.what());
  }
  if (!ok) {
    return MakeError(ErrorCode::kFormat, builder.error().empty() ? "not JSON" : builder.error());
  }
  return std::move(builder.result());
}

std::optional<std::string> FieldBytes(const JsonValue& object, std::string_view key) {
  const JsonValue* text = object.Find(key);
  if (text == nullptr || text->type != JsonValue::Type::kString) return std::nullopt;
  const JsonValue* hex = object.Find(std::string(key) + "_hex");
  if (hex == nullptr) return text->string;
  if (hex->type != JsonValue::Type::kString || hex->string.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string bytes;
  for (std::size_t i = 0; i < hex->string.size(); i += 2) {
    const int hi = nibble(hex->string[i]);
    const int lo = nibble(hex->string[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes += static_cast<char>(hi << 4 | lo);
  }
  return bytes;
}

}  // namespace lockd::audit
