#pragma once
// The re-baseline diff as the field engineer sees it before confirming: counts first, then the
// paths of each section (added, removed, changed), each section capped at `limit` lines with
// "... and N more" (limit 0: every path). Paths are printed with EscapeText (a file name can
// hold newlines or terminal escapes; what is confirmed must be what is shown).
//
// With the rescan's result, every added or changed file shows its owner and who wrote or ran
// it during the window (the session or the trusted updater: pid, uid, executable), and the
// files NOT learned follow in their own section: new or changed on disk but written by a
// process outside the maintenance session (who, with pid, uid and executable) or by nobody
// lockd saw; they are not in the new database (a changed one keeps its old entry).

#include <cstddef>
#include <string>

#include "hashdb/diff.h"
#include "tools/maintenance/rescan.h"

namespace lockctl {

// Lines shown per section unless --full.
inline constexpr std::size_t kDiffLinesShown = 40;

std::string RenderDiff(const hashdb::DatabaseDiff& diff, std::size_t limit,
                       const RescanResult* rescan = nullptr);

// "2 added, 1 removed, 1 changed, 1234 unchanged"
std::string DiffCounts(const hashdb::DatabaseDiff& diff);

// "root:root", "kiosk:kiosk", or the numbers when the names are unknown here.
std::string OwnerText(std::uint32_t uid, std::uint32_t gid);

// "written by the session: pid 4242, uid 0 (root), /usr/bin/cp" (and ", as <path>" when the
// line's path is not path).
std::string WriterText(const LearnedWriter& writer, const std::string& path);

}  // namespace lockctl
