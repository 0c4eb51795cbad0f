#include "hashdb/fs_types.h"

#include <array>

namespace hashdb {

namespace {

struct FsType {
  std::uint32_t magic;
  FsClass fs_class;
  std::string_view name;
};

// Values from <linux/magic.h> (copied so that the list is complete on every libc).
constexpr FsType kTypes[] = {
    {0x9fa0, FsClass::kPseudo, "proc"},
    {0x62656572, FsClass::kPseudo, "sysfs"},
    {0x27e0eb, FsClass::kPseudo, "cgroup"},
    {0x63677270, FsClass::kPseudo, "cgroup2"},
    {0x64626720, FsClass::kPseudo, "debugfs"},
    {0x74726163, FsClass::kPseudo, "tracefs"},
    {0x73636673, FsClass::kPseudo, "securityfs"},
    {0xcafe4a11, FsClass::kPseudo, "bpf"},
    {0x6165676c, FsClass::kPseudo, "pstore"},
    {0xde5e81e4, FsClass::kPseudo, "efivarfs"},
    {0x62656570, FsClass::kPseudo, "configfs"},
    {0x65735543, FsClass::kPseudo, "fusectl"},
    {0x19800202, FsClass::kPseudo, "mqueue"},
    {0x958458f6, FsClass::kPseudo, "hugetlbfs"},
    {0x1cd1, FsClass::kPseudo, "devpts"},
    {0x42494e4d, FsClass::kPseudo, "binfmt_misc"},
    {0xf97cff8c, FsClass::kPseudo, "selinuxfs"},
    {0x43415d53, FsClass::kPseudo, "smackfs"},
    {0x0187, FsClass::kPseudo, "autofs"},
    {0x6e736673, FsClass::kPseudo, "nsfs"},
    {0x67596969, FsClass::kPseudo, "rpc_pipefs"},
    {0x50495045, FsClass::kPseudo, "pipefs"},
    {0x534f434b, FsClass::kPseudo, "sockfs"},
    {0x6969, FsClass::kNetwork, "nfs"},
    {0x517b, FsClass::kNetwork, "smb"},
    {0xff534d42, FsClass::kNetwork, "cifs"},
    {0xfe534d42, FsClass::kNetwork, "smb2"},
    {0x73757245, FsClass::kNetwork, "coda"},
    {0x5346414f, FsClass::kNetwork, "afs"},
    {0x6b414653, FsClass::kNetwork, "kafs"},
    {0x00c36400, FsClass::kNetwork, "ceph"},
    {0x01021997, FsClass::kNetwork, "9p"},
    {0x65735546, FsClass::kNetwork, "fuse"},
    // Local filesystems, listed only for their names in reports.
    {0xef53, FsClass::kLocal, "ext4"},
    {0x58465342, FsClass::kLocal, "xfs"},
    {0x9123683e, FsClass::kLocal, "btrfs"},
    {0x01021994, FsClass::kLocal, "tmpfs"},
    {0x794c7630, FsClass::kLocal, "overlay"},
    {0x73717368, FsClass::kLocal, "squashfs"},
    {0xe0f5e1e2, FsClass::kLocal, "erofs"},
    {0x4d44, FsClass::kLocal, "vfat"},
    {0x2011bab0, FsClass::kLocal, "exfat"},
    {0x9660, FsClass::kLocal, "iso9660"},
    {0xf2f52010, FsClass::kLocal, "f2fs"},
    {0x7366746e, FsClass::kLocal, "ntfs3"},
    {0x3434, FsClass::kLocal, "nilfs"},
};

const FsType* Find(std::int64_t f_type) {
  const auto magic = static_cast<std::uint32_t>(f_type);
  for (const FsType& t : kTypes) {
    if (t.magic == magic) return &t;
  }
  return nullptr;
}

}  // namespace

FsClass ClassifyFsType(std::int64_t f_type) {
  const FsType* t = Find(f_type);
  return t != nullptr ? t->fs_class : FsClass::kLocal;
}

std::string_view FsTypeName(std::int64_t f_type) {
  const FsType* t = Find(f_type);
  return t != nullptr ? t->name : std::string_view();
}

}  // namespace hashdb
