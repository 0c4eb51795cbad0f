// bed_guard: run INSIDE the system test bed before lockd starts (tests/system/start-lockd).
// Exit 0 only when every superblock visible in the bed was created by the bed (guard.h);
// exit 1 with the reasons otherwise; exit 2 on a usage or read error (also a refusal: the
// caller starts lockd only on exit 0).
//
//   bed_guard --host FILE             FILE: the host's mount tables, saved before the bed was
//                                     entered; the bed's tables are every /proc/<pid>/mountinfo
//   bed_guard --host FILE --bed TABLE...  the same decision on given tables (the host's second
//                                     look, at /proc/<bed init>/mountinfo; no stat)

#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/system/guard.h"

namespace {

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return !in.bad();
}

// Numeric entries of /proc: every process of the bed's pid namespace (its own proc).
std::vector<std::string> Pids() {
  std::vector<std::string> pids;
  DIR* d = opendir("/proc");
  if (d == nullptr) return pids;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) pids.push_back(n);
  }
  closedir(d);
  return pids;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host_file;
  std::vector<std::string> bed_files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host_file = argv[++i];
    } else if (std::strcmp(argv[i], "--bed") == 0 && i + 1 < argc) {
      bed_files.push_back(argv[++i]);
    } else {
      std::cerr << "usage: bed_guard --host HOST_MOUNTINFO_FILE [--bed MOUNTINFO_FILE]...\n";
      return 2;
    }
  }
  if (host_file.empty()) {
    std::cerr << "usage: bed_guard --host HOST_MOUNTINFO_FILE [--bed MOUNTINFO_FILE]...\n";
    return 2;
  }
  std::string host_text;
  if (!ReadFile(host_file, host_text)) {
    std::cerr << "bed_guard: REFUSED: cannot read the host's mount tables from " << host_file
              << "\n";
    return 2;
  }

  // Every mount table lockd could read in the bed: its own and every other process's.
  std::string bed_text;
  std::vector<bedguard::Observed> observed;
  std::vector<std::string> sources = {"self"};
  for (const auto& p : Pids()) sources.push_back(p);
  if (!bed_files.empty()) sources = bed_files;
  std::size_t tables = 0;
  for (const auto& src : sources) {
    std::string text;
    if (!bed_files.empty()) {
      if (!ReadFile(src, text)) {
        std::cerr << "bed_guard: REFUSED: cannot read " << src << "\n";
        return 2;
      }
      ++tables;
      bed_text += text;
      continue;
    }
    if (!ReadFile("/proc/" + src + "/mountinfo", text)) continue;  // exited meanwhile
    ++tables;
    bed_text += text;
    if (!text.empty() && text.back() != '\n') bed_text += '\n';
    // stat each mount point that is not covered by a later mount on the same path, through
    // that process's root so another namespace's mounts are seen as it sees them.
    bedguard::ParsedTable t = bedguard::ParseMountinfo(text, "mountinfo of " + src);
    for (std::size_t i = 0; i < t.lines.size(); ++i) {
      bool covered = false;
      for (std::size_t j = i + 1; j < t.lines.size(); ++j) {
        covered = covered || t.lines[j].mount_point == t.lines[i].mount_point;
      }
      if (covered) continue;
      std::string path = src == "self" ? t.lines[i].mount_point
                                       : "/proc/" + src + "/root" + t.lines[i].mount_point;
      struct stat st {};
      if (stat(path.c_str(), &st) == 0) observed.push_back({path, st.st_dev});
    }
  }
  if (tables == 0) {
    std::cerr << "bed_guard: REFUSED: no mount table readable under /proc\n";
    return 2;
  }

  bedguard::Verdict v = bedguard::UnsharedSuperblocks(host_text, bed_text);
  bedguard::CheckObserved(host_text, bed_text, observed, v);
  if (!v.ok()) {
    // The same reason comes once per process's table: each is printed once, the first 30.
    std::vector<std::string> reasons;
    std::set<std::string> seen;
    for (const auto& r : v.refusals) {
      if (seen.insert(r).second) reasons.push_back(r);
    }
    std::cerr << "bed_guard: REFUSED: lockd must not start here (" << reasons.size()
              << " reason(s)):\n";
    for (std::size_t i = 0; i < reasons.size() && i < 30; ++i)
      std::cerr << "  " << reasons[i] << "\n";
    if (reasons.size() > 30) std::cerr << "  ... and " << reasons.size() - 30 << " more\n";
    return 1;
  }
  std::cout << "bed_guard: ok: " << v.superblocks.size() << " superblock(s) in " << tables
            << " mount table(s), none of them the host's (" << observed.size()
            << " mount points stat'ed):\n";
  for (const auto& [dev, what] : v.superblocks) std::cout << "  " << dev << "  " << what << "\n";
  return 0;
}
