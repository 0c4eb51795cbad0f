#pragma once
// The re-baseline diff as the field engineer sees it before confirming: counts first, then the
// paths of each section (added, removed, changed), each section capped at `limit` lines with
// "... and N more" (limit 0: every path). Paths are printed with EscapeText (a file name can
// hold newlines or terminal escapes; what is confirmed must be what is shown).

#include <cstddef>
#include <string>

#include "hashdb/diff.h"

namespace lockctl {

// Lines shown per section unless --full.
inline constexpr std::size_t kDiffLinesShown = 40;

std::string RenderDiff(const hashdb::DatabaseDiff& diff, std::size_t limit);

// "2 added, 1 removed, 1 changed, 1234 unchanged"
std::string DiffCounts(const hashdb::DatabaseDiff& diff);

}  // namespace lockctl
