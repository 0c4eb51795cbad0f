#pragma once
// Text encodings for the export's CSV files, whose values (file names, process names) come
// from outsiders and may hold any byte except NUL: newlines, commas, quotes, invalid UTF-8,
// terminal and bidirectional control characters, or a leading '=' that a spreadsheet would run
// as a formula.
//
// The encoding (docs/compliance.md, "The bundle"):
// - Every row is RFC 4180: fields separated by ',', rows ended by CRLF, a field holding ',',
//   '"', a space or a leading apostrophe quoted with '"' and inner '"' doubled.
// - A byte-string column (path, exe) holds a readable, reversible escape (DisplayText): valid
//   printable UTF-8 as is, '\' as "\\", each byte that is not valid UTF-8 or is a C0 control
//   or DEL as "\xHH", and the C1, line/paragraph separator, bidirectional and BOM code points
//   as "\u{XXXX}". So a field never holds a raw newline or control character.
// - Formula injection: a text field starting with '=', '+', '-', '@', TAB or CR gets a
//   leading apostrophe ("'=cmd|...") so spreadsheets show it as text (OWASP's advice).
// - The exact bytes are in a separate `<column>_hex` column (lower-case hex, always present):
//   that column is the truth; the escaped one is for people.

#include <string>
#include <string_view>
#include <vector>

namespace lockctl::exporttool {

// The readable, unambiguous escape described above (no quoting, no apostrophe).
std::string DisplayText(std::string_view bytes);

// Lower-case hex of the bytes.
std::string HexBytes(std::string_view bytes);

// One CSV field: the formula guard, then RFC 4180 quoting when needed. text must not hold a
// raw CR or LF (use DisplayText on outsider bytes first); if it does they are escaped too.
std::string CsvField(std::string_view text);

// A whole row: fields joined with ',' and ended with CRLF. Numbers can be passed as text.
std::string CsvRow(const std::vector<std::string>& fields);

}  // namespace lockctl::exporttool
