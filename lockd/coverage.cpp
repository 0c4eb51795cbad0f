#include "lockd/coverage.h"

#include "hashdb/classify.h"

namespace lockd {

namespace {
constexpr std::uint16_t kEtRel = 1;
constexpr std::uint16_t kEtCore = 4;
}  // namespace

HeadKind SniffHead(std::span<const std::uint8_t> head) {
  if (head.size() >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
    // e_ident[EI_DATA] at 5 (1 little, 2 big endian), e_type at 16. Anything we cannot read
    // is judged: the safe direction.
    if (head.size() < 18) return HeadKind::kElfLoadable;
    std::uint16_t type = 0;
    if (head[5] == 1) {
      type = static_cast<std::uint16_t>(head[16] | (head[17] << 8));
    } else if (head[5] == 2) {
      type = static_cast<std::uint16_t>((head[16] << 8) | head[17]);
    } else {
      return HeadKind::kElfLoadable;
    }
    return type == kEtRel || type == kEtCore ? HeadKind::kElfInert : HeadKind::kElfLoadable;
  }
  if (head.size() >= 2 && head[0] == '#' && head[1] == '!') return HeadKind::kShebang;
  return HeadKind::kOther;
}

bool IsScriptHead(HeadKind head) { return head == HeadKind::kShebang; }

bool IsScriptByModeOrName(std::uint32_t mode, std::string_view name) {
  if ((mode & 0111) != 0) return true;
  return !name.empty() && hashdb::HasScriptSuffix(name);
}

bool IsInterpreter(std::string_view exe_path, const std::vector<std::string>& interpreters) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (exe_path.size() > kDeleted.size() &&
      exe_path.substr(exe_path.size() - kDeleted.size()) == kDeleted) {
    exe_path.remove_suffix(kDeleted.size());
  }
  const std::size_t slash = exe_path.rfind('/');
  const std::string_view base =
      slash == std::string_view::npos ? exe_path : exe_path.substr(slash + 1);
  if (base.empty()) return false;
  for (const std::string& name : interpreters) {
    if (name.empty() || base.size() < name.size() || base.substr(0, name.size()) != name) continue;
    const std::string_view rest = base.substr(name.size());
    bool version = true;
    for (char c : rest) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-')) {
        version = false;
        break;
      }
    }
    if (version) return true;
  }
  return false;
}

}  // namespace lockd
