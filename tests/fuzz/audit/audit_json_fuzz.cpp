// Fuzz target for the project's JSON reader and writer (audit/json_parse.h, json_escape.h):
// any bytes either parse or are refused with an error (nlohmann-json's exceptions never leave
// ParseJson), and whatever bytes the writer encodes parse back as one string, equal to the
// input when it was valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/json_escape.h"
#include "audit/json_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = lockd::audit::ParseJson(text);
      v.ok() && v->type == lockd::audit::JsonValue::Type::kObject) {
    for (const auto& member : v->object) (void)lockd::audit::FieldBytes(*v, member.key);
  }
  std::string encoded;
  const bool valid = lockd::audit::AppendJsonString(encoded, text);
  auto back = lockd::audit::ParseJson(encoded);
  if (!back.ok() || back->type != lockd::audit::JsonValue::Type::kString) __builtin_trap();
  if (valid && back->string != text) __builtin_trap();
  const std::string member = "{" + lockd::audit::JsonBytesMember("path", text) + "}";
  auto object = lockd::audit::ParseJson(member);
  if (!object.ok() || lockd::audit::FieldBytes(*object, "path") != text) __builtin_trap();
  return 0;
}
