// stall_fuse: a FUSE server, for tests, that stalls one kind of request forever. It speaks the
// raw /dev/fuse protocol (<linux/fuse.h>, no library) and serves one directory holding the
// executable files `prog0` .. `prog7` (a few bytes each, all different: their content is never
// what a test looks at, but distinct files are distinct judgements for lockd).
//
//   stall_fuse MOUNTPOINT LOG open   answers INIT, LOOKUP, GETATTR, ...; never answers OPEN
//   stall_fuse MOUNTPOINT LOG read   answers OPEN too; never answers READ
//
// LOG gets one line per stalled request ("OPEN pid=N" / "READ pid=N", the pid the kernel names
// as the requester) and "ready" once mounted, so a test can see who waits on the server. The
// server runs until killed or until the kernel ends the connection (fusectl abort, umount):
// closing /dev/fuse aborts the connection and fails every request still waiting.
//
// Needs root (mount(2) with an fd of /dev/fuse). Never installed.

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::uint64_t kFirstProgNode = 2;
constexpr int kProgs = 8;
constexpr char kProgContent[] = "#!/bin/true 0\n";  // the digit is the file's number

// The node of "progN", 0 when the name is not one.
std::uint64_t ProgNode(const char* name) {
  if (std::strncmp(name, "prog", 4) != 0 || name[4] < '0' || name[4] >= '0' + kProgs ||
      name[5] != '\0') {
    return 0;
  }
  return kFirstProgNode + static_cast<std::uint64_t>(name[4] - '0');
}

int g_log = -1;

void Note(const std::string& line) {
  const std::string text = line + "\n";
  (void)!::write(g_log, text.data(), text.size());
}

void Reply(int dev, std::uint64_t unique, int error, const void* body, std::size_t len) {
  fuse_out_header out{};
  out.len = static_cast<std::uint32_t>(sizeof(out) + (error == 0 ? len : 0));
  out.error = error;
  out.unique = unique;
  iovec iov[2] = {{&out, sizeof(out)}, {const_cast<void*>(body), error == 0 ? len : 0}};
  (void)!::writev(dev, iov, error == 0 && len > 0 ? 2 : 1);
}

fuse_attr AttrOf(std::uint64_t node) {
  fuse_attr a{};
  a.ino = node;
  a.nlink = 1;
  a.blksize = 4096;
  if (node == FUSE_ROOT_ID) {
    a.mode = S_IFDIR | 0755;
    a.nlink = 2;
  } else {
    a.mode = S_IFREG | 0755;
    a.size = sizeof(kProgContent) - 1;
    a.blocks = 1;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::strcmp(argv[3], "open") != 0 && std::strcmp(argv[3], "read") != 0)) {
    std::fprintf(stderr, "usage: stall_fuse MOUNTPOINT LOG open|read\n");
    return 2;
  }
  const bool stall_open = std::strcmp(argv[3], "open") == 0;
  g_log = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (g_log < 0) {
    std::perror(argv[2]);
    return 1;
  }
  const int dev = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (dev < 0) {
    std::perror("/dev/fuse");
    return 1;
  }
  const std::string options = "fd=" + std::to_string(dev) +
                              ",rootmode=40000,user_id=0,group_id=0,default_permissions,"
                              "allow_other";
  if (::mount("stall_fuse", argv[1], "fuse.stall_fuse", MS_NOSUID | MS_NODEV, options.c_str()) !=
      0) {
    std::perror("mount");
    return 1;
  }
  Note("ready");

  std::vector<char> buf(FUSE_MIN_READ_BUFFER + (1 << 20));
  for (;;) {
    const ssize_t n = ::read(dev, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR || errno == ENOENT) continue;  // ENOENT: an interrupted request
      return errno == ENODEV ? 0 : 1;                   // ENODEV: unmounted or aborted
    }
    if (static_cast<std::size_t>(n) < sizeof(fuse_in_header)) continue;
    fuse_in_header in{};
    std::memcpy(&in, buf.data(), sizeof(in));
    const char* arg = buf.data() + sizeof(in);
    switch (in.opcode) {
      case FUSE_INIT: {
        fuse_init_in init_in{};
        std::memcpy(&init_in, arg,
                    std::min(sizeof(init_in), static_cast<std::size_t>(n) - sizeof(in)));
        fuse_init_out init{};
        init.major = FUSE_KERNEL_VERSION;
        init.minor = FUSE_KERNEL_MINOR_VERSION;
        init.max_readahead = init_in.max_readahead;
        init.max_write = 4096;
        init.time_gran = 1;
        Reply(dev, in.unique, 0, &init, sizeof(init));
        break;
      }
      case FUSE_LOOKUP: {
        const std::uint64_t node = in.nodeid == FUSE_ROOT_ID ? ProgNode(arg) : 0;
        if (node != 0) {
          fuse_entry_out e{};
          e.nodeid = node;
          e.attr = AttrOf(node);
          Reply(dev, in.unique, 0, &e, sizeof(e));
        } else {
          Reply(dev, in.unique, -ENOENT, nullptr, 0);
        }
        break;
      }
      case FUSE_GETATTR: {
        fuse_attr_out a{};
        a.attr = AttrOf(in.nodeid);
        Reply(dev, in.unique, 0, &a, sizeof(a));
        break;
      }
      case FUSE_OPEN:
      case FUSE_OPENDIR: {
        if (in.opcode == FUSE_OPEN && stall_open) {
          Note("OPEN pid=" + std::to_string(in.pid));
          break;  // never answered
        }
        fuse_open_out o{};
        Reply(dev, in.unique, 0, &o, sizeof(o));
        break;
      }
      case FUSE_READ: {
        if (!stall_open) {
          Note("READ pid=" + std::to_string(in.pid));
          break;  // never answered
        }
        fuse_read_in r{};
        std::memcpy(&r, arg, std::min(sizeof(r), static_cast<std::size_t>(n) - sizeof(in)));
        std::string content = kProgContent;
        content[content.size() - 2] = static_cast<char>('0' + (in.nodeid - kFirstProgNode));
        const std::size_t from = std::min<std::size_t>(r.offset, content.size());
        Reply(dev, in.unique, 0, content.data() + from,
              std::min<std::size_t>(r.size, content.size() - from));
        break;
      }
      case FUSE_READDIR:
        Reply(dev, in.unique, 0, nullptr, 0);  // empty: files by name only
        break;
      case FUSE_STATFS: {
        fuse_statfs_out s{};
        s.st.bsize = 4096;
        s.st.namelen = 255;
        Reply(dev, in.unique, 0, &s, sizeof(s));
        break;
      }
      case FUSE_RELEASE:
      case FUSE_RELEASEDIR:
      case FUSE_FLUSH:
        Reply(dev, in.unique, 0, nullptr, 0);
        break;
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
      case FUSE_INTERRUPT:
        break;  // no reply expected (an interrupt of a stalled request is ignored too)
      case FUSE_DESTROY:
        Reply(dev, in.unique, 0, nullptr, 0);
        return 0;
      default:
        Reply(dev, in.unique, -ENOSYS, nullptr, 0);
        break;
    }
  }
}
