// `lockctl log show`: audit records as a readable table, or the stored lines filtered.
#include <chrono>
#include <cstdio>
#include <string>

#include "audit/json_escape.h"
#include "audit/json_parse.h"
#include "audit/record.h"
#include "audit/verify.h"
#include "tools/commands.h"
#include "tools/log/commands.h"
#include "tools/since.h"

namespace lockctl {
namespace {

using lockd::audit::Clock;
using lockd::audit::JsonValue;

// Outsider bytes for a terminal: readable UTF-8 kept, everything that could move the cursor,
// change colours, reorder text or hide characters escaped (\n, \xHH, \u{XXXX}); quoted when
// it holds spaces, quotes or '=' so fields stay apart.
std::string Display(std::string_view bytes) {
  std::string s;
  bool quote = bytes.empty();
  while (!bytes.empty()) {
    std::uint32_t cp = 0;
    const std::size_t n = lockd::audit::DecodeUtf8(bytes, &cp);
    char buf[16];
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(bytes[0]));
      s += buf;
      bytes.remove_prefix(1);
      continue;
    }
    if (cp == '\\' || cp == '"') {
      s += '\\';
      s += static_cast<char>(cp);
      quote = quote || cp == '"';
    } else if (cp == '\n') {
      s += "\\n";
    } else if (cp == '\t') {
      s += "\\t";
    } else if (lockd::audit::IsUnsafeCodePoint(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04x}", cp);
      s += buf;
    } else {
      if (cp == ' ' || cp == '=') quote = true;
      s.append(bytes.data(), n);
    }
    bytes.remove_prefix(n);
  }
  return quote ? "\"" + s + "\"" : s;
}

std::string DisplayValue(const JsonValue& v) {
  switch (v.type) {
    case JsonValue::Type::kNull:
      return "null";
    case JsonValue::Type::kBool:
      return v.boolean ? "true" : "false";
    case JsonValue::Type::kInt:
      return std::to_string(v.int_value);
    case JsonValue::Type::kUint:
      return std::to_string(v.uint_value);
    case JsonValue::Type::kString:
      return Display(v.string);
    case JsonValue::Type::kArray: {
      std::string s = "[";
      for (std::size_t i = 0; i < v.array.size(); ++i) {
        s += (i ? "," : "") + DisplayValue(v.array[i]);
      }
      return s + "]";
    }
    case JsonValue::Type::kObject: {
      std::string s = "{";
      for (std::size_t i = 0; i < v.object.size(); ++i) {
        s += (i ? " " : "") + v.object[i].key + "=" + DisplayValue(v.object[i].value);
      }
      return s + "}";
    }
  }
  return "";
}

std::string Details(const JsonValue& record) {
  std::string s;
  for (const auto& [key, value] : record.object) {
    if (key == "seq" || key == "time" || key == "type" || key == "prev") continue;
    if (key.size() > 4 && key.ends_with("_hex")) {
      const JsonValue* base = record.Find(key.substr(0, key.size() - 4));
      if (base && base->type == JsonValue::Type::kString) continue;  // folded into the base
    }
    if (!s.empty()) s += ' ';
    s += key + "=";
    if (value.type == JsonValue::Type::kString) {
      s += Display(lockd::audit::FieldBytes(record, key).value_or(value.string));
    } else {
      s += DisplayValue(value);
    }
  }
  return s;
}

// Pads to width; a longer value still gets one space, so columns never run together.
std::string Pad(std::string s, std::size_t width) {
  s.append(s.size() < width ? width - s.size() : 1, ' ');
  return s;
}

}  // namespace

int RunLogShow(const LogShowArgs& args, std::ostream& out, std::ostream& err) {
  std::optional<Clock::time_point> since;
  if (!args.since.empty()) {
    since = ParseSince(args.since, Clock::now());
    if (!since) {
      err << "lockctl log show: --since \"" << Display(args.since) << "\": expected " << kSinceForms
          << "\n";
      return kExitUsage;
    }
  }
  auto files = ResolveLogFiles(args.input, err);
  if (!files) return kExitUsage;
  if (!args.json) {
    out << Pad("SEQ", 8) << Pad("TIME (UTC)", 26) << Pad("TYPE", 20) << "DETAILS\n";
  }
  for (const std::string& path : *files) {
    auto bytes = lockd::audit::ReadLogFile(path);
    if (!bytes) {
      err << "lockctl log show: " << bytes.error().message << "\n";
      return kExitUsage;
    }
    std::string_view data = *bytes;
    std::uint64_t line_no = 0;
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const std::string_view line = data.substr(0, nl);
      data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
      ++line_no;
      auto record = lockd::audit::ParseJson(line);
      const JsonValue* seq = record ? record->Find("seq") : nullptr;
      const JsonValue* time = record ? record->Find("time") : nullptr;
      const JsonValue* type = record ? record->Find("type") : nullptr;
      if (!record || !seq || !time || !type || time->type != JsonValue::Type::kString ||
          type->type != JsonValue::Type::kString) {
        err << path << ":" << line_no << ": not an audit record ("
            << (record ? "missing seq, time or type" : record.error().message)
            << "); run `lockctl log verify`\n";
        continue;
      }
      if (since) {
        const auto t = lockd::audit::ParseTime(time->string);
        if (!t || *t < *since) continue;
      }
      if (!args.types.empty()) {
        bool match = false;
        // A repeat record counts denials of its `of` type: --type deny shows them too.
        const JsonValue* of = type->string == "repeat" ? record->Find("of") : nullptr;
        for (const auto& ty : args.types) {
          match = match || ty == type->string ||
                  (of && of->type == JsonValue::Type::kString && ty == of->string);
        }
        if (!match) continue;
      }
      if (args.json) {
        out << line << "\n";
      } else {
        out << Pad(DisplayValue(*seq), 8) << Pad(Display(time->string), 26)
            << Pad(Display(type->string), 20) << Details(*record) << "\n";
      }
    }
  }
  return kExitOk;
}

}  // namespace lockctl
