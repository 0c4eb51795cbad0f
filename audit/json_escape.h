#pragma once
// The project's one JSON string writer: audit records, `lockctl ... --json`, the export
// bundle and `lockd status --json` all encode strings here. Data in records comes from outsiders
// (file names, process paths), so the encoder guarantees that no input can end a string, add a
// field or split a line: the output never contains a raw control character, newline, quote or
// backslash from the input, and is always valid UTF-8.
//
// Rules (docs/audit-log.md, "Strings"):
// - `"` `\` and \b \f \n \r \t get their short escapes; other C0 controls, DEL, the C1
//   controls U+0080..U+009F, U+2028/U+2029 (JavaScript line breaks), the bidirectional
//   controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) and U+FEFF are written
//   as \uXXXX, so the file and terminals showing it cannot be confused by them.
// - Other valid UTF-8 is copied unchanged (readable names in any script).
// - Each byte that is not part of valid UTF-8 (stray continuation bytes, overlong forms,
//   surrogates, > U+10FFFF, truncated sequences) becomes U+FFFD in the string; the caller
//   learns about it through the return value and stores the exact bytes elsewhere (see
//   Record::AddBytes: the `<key>_hex` field).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lockd::audit {

// Appends `"...escaped..."` (with the quotes) to out. Returns true when bytes was valid
// UTF-8 (the string then decodes back to exactly bytes), false when some bytes were replaced
// by U+FFFD.
bool AppendJsonString(std::string& out, std::string_view bytes);

// The same, as a new string: `"...escaped..."` with the quotes.
std::string JsonString(std::string_view bytes);

// `"key":"value"` and, when value is not valid UTF-8, `,"key_hex":"<exact bytes in lower-case
// hex>"` after it, so a reader can recover the bytes (FieldBytes in json_parse.h). key is our
// code's constant. (Record::AddBytes does the same inside a record, with its key rules.)
std::string JsonBytesMember(std::string_view key, std::string_view value);

// True when bytes is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// Length in bytes of the valid UTF-8 sequence starting at bytes[0], or 0 when bytes does not
// start with one. *code_point receives its value when non-zero.
std::size_t DecodeUtf8(std::string_view bytes, std::uint32_t* code_point);

// True for the code points the encoder always writes as \uXXXX (see above); also used by
// `lockctl log show` to keep them off the terminal.
bool IsUnsafeCodePoint(std::uint32_t cp);

}  // namespace lockd::audit
