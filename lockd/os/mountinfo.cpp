#include "lockd/os/mountinfo.h"

#include <libmount.h>
#include <sys/sysmacros.h>

#include <array>
#include <cstdio>
#include <memory>

namespace lockd::os {

namespace {

struct TableDeleter {
  void operator()(libmnt_table* t) const { mnt_unref_table(t); }
};
struct IterDeleter {
  void operator()(libmnt_iter* i) const { mnt_free_iter(i); }
};
struct FileDeleter {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// libmount guesses the format (mountinfo or fstab) from the first line it reads. A first line
// that does not start with "<number> <number>" would make it parse the whole table as fstab,
// so such leading lines are skipped here (and reported) before libmount sees the text.
bool LooksLikeMountInfoLine(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i >= line.size() || !IsDigit(line[i])) return false;
  while (i < line.size() && IsDigit(line[i])) ++i;
  if (i >= line.size() || line[i] != ' ') return false;
  while (i < line.size() && line[i] == ' ') ++i;
  return i < line.size() && IsDigit(line[i]);
}

struct ParseContext {
  std::vector<std::string>* skipped;
  std::size_t line_offset;  // lines removed before libmount's line 1
};

int OnParseError(libmnt_table* table, const char* /*filename*/, int line) {
  auto* ctx = static_cast<ParseContext*>(mnt_table_get_userdata(table));
  if (ctx != nullptr) {
    ctx->skipped->push_back("line " + std::to_string(line + ctx->line_offset) +
                            ": not a mountinfo entry");
  }
  return 1;  // recoverable: skip the line, keep parsing
}

std::string Str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

}  // namespace

dev_t MountEntry::dev() const { return makedev(major, minor); }

bool MountEntry::read_only() const {
  std::string_view opts = options;
  while (!opts.empty()) {
    std::size_t comma = opts.find(',');
    std::string_view opt = opts.substr(0, comma);
    if (opt == "ro") return true;
    if (comma == std::string_view::npos) break;
    opts.remove_prefix(comma + 1);
  }
  return false;
}

hashdb::Result<MountTable> ParseMountInfo(std::string_view text) {
  MountTable out;
  ParseContext ctx{&out.skipped, 0};
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    if (LooksLikeMountInfoLine(line)) break;
    ++ctx.line_offset;
    if (!line.empty()) {
      out.skipped.push_back("line " + std::to_string(ctx.line_offset) + ": not a mountinfo entry");
    }
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  if (text.empty()) return out;
  // fmemopen needs a writable-looking buffer and a non-zero size; it only reads here.
  std::string copy(text);
  std::unique_ptr<std::FILE, FileDeleter> file(::fmemopen(copy.data(), copy.size(), "r"));
  if (!file) return hashdb::ErrnoError("mountinfo: fmemopen");
  std::unique_ptr<libmnt_table, TableDeleter> table(mnt_new_table());
  std::unique_ptr<libmnt_iter, IterDeleter> iter(mnt_new_iter(MNT_ITER_FORWARD));
  if (!table || !iter) {
    return hashdb::MakeError(hashdb::ErrorCode::kIo, "mountinfo: libmount: out of memory");
  }
  mnt_table_set_userdata(table.get(), &ctx);
  mnt_table_set_parser_errcb(table.get(), OnParseError);
  if (int rc = mnt_table_parse_stream(table.get(), file.get(), "mountinfo"); rc < 0) {
    return hashdb::ErrnoError("mountinfo: libmount parse", -rc);
  }
  libmnt_fs* fs = nullptr;
  while (mnt_table_next_fs(table.get(), iter.get(), &fs) == 0) {
    MountEntry e;
    e.mount_id = mnt_fs_get_id(fs);
    e.parent_id = mnt_fs_get_parent_id(fs);
    const dev_t dev = mnt_fs_get_devno(fs);
    e.major = ::major(dev);
    e.minor = ::minor(dev);
    e.root = Str(mnt_fs_get_root(fs));
    e.mount_point = Str(mnt_fs_get_target(fs));
    e.options = Str(mnt_fs_get_vfs_options(fs));
    e.fs_type = Str(mnt_fs_get_fstype(fs));
    e.source = Str(mnt_fs_get_source(fs));
    e.super_options = Str(mnt_fs_get_fs_options(fs));
    if (e.mount_point.empty() || e.mount_point[0] != '/') {
      out.skipped.push_back("mount id " + std::to_string(e.mount_id) +
                            ": mount point is not an absolute path");
      continue;
    }
    out.mounts.push_back(std::move(e));
  }
  return out;
}

FsClass ClassifyFilesystem(std::string_view t) {
  static constexpr std::array<std::string_view, 22> kPseudo = {
      "proc",       "sysfs",     "cgroup",   "cgroup2",     "devpts",   "securityfs",
      "debugfs",    "tracefs",   "pstore",   "bpf",         "configfs", "fusectl",
      "mqueue",     "autofs",    "efivarfs", "binfmt_misc", "nsfs",     "selinuxfs",
      "rpc_pipefs", "hugetlbfs", "nfsd",     "sockfs"};
  static constexpr std::array<std::string_view, 12> kNetwork = {
      "nfs",       "nfs4", "cifs", "smb3",  "smbfs",  "ceph",
      "glusterfs", "afs",  "9p",   "ncpfs", "lustre", "gfs2"};
  for (auto p : kPseudo) {
    if (t == p) return FsClass::kPseudo;
  }
  for (auto n : kNetwork) {
    if (t == n) return FsClass::kNetwork;
  }
  if (t == "fuse" || t == "fuseblk" || t.substr(0, 5) == "fuse.") return FsClass::kFuse;
  if (t == "overlay") return FsClass::kOverlay;
  return FsClass::kLocal;
}

std::string_view FsClassName(FsClass c) {
  switch (c) {
    case FsClass::kLocal:
      return "local";
    case FsClass::kPseudo:
      return "pseudo";
    case FsClass::kNetwork:
      return "network";
    case FsClass::kFuse:
      return "fuse";
    case FsClass::kOverlay:
      return "overlay";
  }
  return "unknown";
}

bool PathIsAtOrBelow(std::string_view path, std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.substr(0, dir.size()) != dir) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace lockd::os
