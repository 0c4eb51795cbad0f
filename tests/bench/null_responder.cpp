// The floor of any fanotify permission daemon (not a test; used by exec_bench.sh FLOOR=1):
//   null_responder PATH... READY_FILE
// Marks each PATH's filesystem for FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM, as lockd's group does, and
// allows every event with the fewest system calls a responder can make: a blocking read of
// the queue, one response write and one close per event. No fstat, no lookup, no poll. What an
// exec costs under it above no daemon is the kernel's round trip alone (queueing, waking this
// thread, the switch, the answer), which no user-space design can go below. Creates
// READY_FILE once the mark is in place; stops on SIGTERM (the group's close answers anything
// still held). READY_FILE must be on another filesystem than PATH: the responder's own open of
// it would wait for an answer only it can give (refused at start).
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnTerm(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PATH... READY_FILE\n", argv[0]);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = OnTerm;  // no SA_RESTART: the blocking read returns EINTR
  ::sigaction(SIGTERM, &sa, nullptr);
  const std::string ready_path = argv[argc - 1];
  const std::string ready_parent = ready_path.substr(0, ready_path.rfind('/') + 1) + ".";
  struct stat ready_dir {};
  if (::stat(ready_parent.c_str(), &ready_dir) != 0) {
    std::perror(ready_parent.c_str());
    return 2;
  }
  const int group = ::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_UNLIMITED_QUEUE,
                                    O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NONBLOCK);
  if (group < 0) {
    std::perror("fanotify_init");
    return 1;
  }
  for (int i = 1; i < argc - 1; ++i) {
    struct stat marked {};
    if (::stat(argv[i], &marked) != 0 || marked.st_dev == ready_dir.st_dev) {
      std::fprintf(stderr, "null_responder: READY_FILE must be on another filesystem than %s\n",
                   argv[i]);
      return 2;
    }
    if (::fanotify_mark(group, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                        FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM, AT_FDCWD, argv[i]) != 0) {
      std::perror("fanotify_mark");
      return 1;
    }
  }
  const int ready = ::open(ready_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (ready >= 0) ::close(ready);
  alignas(fanotify_event_metadata) static char buf[64 * 1024];
  std::uint64_t answered = 0;
  while (g_stop == 0) {
    const ssize_t n = ::read(group, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    auto* meta = reinterpret_cast<const fanotify_event_metadata*>(buf);
    ssize_t len = n;
    while (FAN_EVENT_OK(meta, len)) {
      if (meta->fd >= 0) {
        fanotify_response r{meta->fd, FAN_ALLOW};
        (void)!::write(group, &r, sizeof r);
        ::close(meta->fd);
        ++answered;
      }
      meta = FAN_EVENT_NEXT(meta, len);
    }
  }
  std::fprintf(stderr, "null_responder: %llu events answered\n",
               static_cast<unsigned long long>(answered));
  return 0;
}
