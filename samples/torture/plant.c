// plant: what a hostile workload does to the places sctrace writes or reads
// (tests/e2e/test_faults.py). Static, so it runs in a FROM-scratch image.
//   plant symlink TARGET LINK   symlink(TARGET, LINK), replacing LINK
//   plant fifo PATH             mkfifo(PATH, 0666)
//   plant dir PATH              mkdir(PATH, 0777)
//   plant garbage PATH          "{not json" written to PATH
// Exit 0 when done, 1 on failure. And, trying without giving up (one line
// per attempt on stderr, exit 0):
//   plant forge PATH...         a forged recording (ptrace, process_vm_writev)
//                               written to each PATH, or sent to it when it
//                               is a unix socket (plain, and dressed as a frame)
//   plant fill PATH MIB         MIB MiB written to PATH
//   plant steal SRC DIR SOCKET  SRC (say /proc/1/environ) copied to DIR/environ
//                               (or why not to DIR/environ.err); then, once
//                               DIR/frame exists (written from outside, up to
//                               120 s), its bytes sent to SOCKET from this
//                               process, and the answer read to its end
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "torture.h"

static const char kForged[] =
    "{\"sctrace_recording\": 1, \"complete\": true, \"syscalls\": {\"SCMP_ARCH_X86_64\": "
    "{\"ptrace\": {\"nr\": 101, \"count\": 1}, \"process_vm_writev\": {\"nr\": 311, \"count\": 1}}}}\n";

static void say(const char* what, const char* path, long err) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "plant: %s %s: %s\n", what, path, err ? strerror((int)err) : "done");
  if (n > 0) sample_write_all(2, buf, (size_t)n);
}

static void send_to_socket(const char* path) {
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
  // Plain, then after a frame header of the channel's shape with a made-up MAC.
  for (int framed = 0; framed < 2; ++framed) {
    long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || syscall(SYS_connect, fd, &addr, sizeof addr) != 0) {
      say("connect", path, errno);
      if (fd >= 0) syscall(SYS_close, fd);
      return;
    }
    if (framed) {
      char head[56] = "SCTRFRM1";
      head[16] = 1;  // final
      head[20] = (char)(sizeof kForged - 1);
      sample_write_all((int)fd, head, sizeof head);
    }
    sample_write_all((int)fd, kForged, sizeof kForged - 1);
    char mac[32] = {0};
    sample_write_all((int)fd, mac, sizeof mac);
    syscall(SYS_close, fd);
    say(framed ? "sent a forged frame to" : "sent a forged recording to", path, 0);
  }
}

// Writes len bytes to DIR/NAME through a rename, so a reader outside never
// sees half of it.
static void publish(const char* dir, const char* name, const char* buf, size_t len) {
  char tmp[512], path[512];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  long fd = syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) sample_die("openat");
  sample_write_all((int)fd, buf, len);
  syscall(SYS_close, fd);
  if (syscall(SYS_renameat, AT_FDCWD, tmp, AT_FDCWD, path) != 0) sample_die("renameat");
}

static int steal(const char* src, const char* dir, const char* sock) {
  static char buf[1 << 16];
  long fd = syscall(SYS_openat, AT_FDCWD, src, O_RDONLY);
  long n = fd < 0 ? -1 : syscall(SYS_read, fd, buf, sizeof buf);
  if (n < 0) {
    const char* why = strerror(errno);
    publish(dir, "environ.err", why, strlen(why));
    say("read", src, errno);
  } else {
    publish(dir, "environ", buf, (size_t)n);
    say("copied", src, 0);
  }
  if (fd >= 0) syscall(SYS_close, fd);
  char path[512];
  snprintf(path, sizeof path, "%s/frame", dir);
  for (int i = 0; i < 2400; ++i) {
    fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    if (fd >= 0) break;
    torture_sleep_ms(50);
  }
  if (fd < 0) {
    say("wait for", path, ETIMEDOUT);
    return 0;
  }
  n = syscall(SYS_read, fd, buf, sizeof buf);
  syscall(SYS_close, fd);
  if (n <= 0) {
    say("nothing to send from", path, 0);
    return 0;
  }
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
  long s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || syscall(SYS_connect, s, &addr, sizeof addr) != 0) {
    say("connect", sock, errno);
    return 0;
  }
  sample_write_all((int)s, buf, (size_t)n);
  syscall(SYS_shutdown, s, SHUT_WR);
  char answer[64];
  while (syscall(SYS_read, s, answer, sizeof answer) > 0) {
  }
  syscall(SYS_close, s);
  say("sent the frames in DIR/frame to", sock, 0);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 5 && strcmp(argv[1], "steal") == 0) {
    signal(SIGPIPE, SIG_IGN);
    return steal(argv[2], argv[3], argv[4]);
  }
  if (argc >= 3 && strcmp(argv[1], "forge") == 0) {
    signal(SIGPIPE, SIG_IGN);  // the peer may hang up on a forgery: carry on with the next path
    for (int i = 2; i < argc; ++i) {
      struct stat st;
      if (stat(argv[i], &st) == 0 && S_ISSOCK(st.st_mode)) {
        send_to_socket(argv[i]);
        continue;
      }
      long fd = syscall(SYS_openat, AT_FDCWD, argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0666);
      if (fd < 0) {
        say("write", argv[i], errno);
        continue;
      }
      sample_write_all((int)fd, kForged, sizeof kForged - 1);
      syscall(SYS_close, fd);
      say("wrote a forged recording to", argv[i], 0);
    }
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "fill") == 0) {
    long fd = syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
      say("fill", argv[2], errno);
      return 0;
    }
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    long mib = atol(argv[3]), done = 0;
    for (; done < mib; ++done) {
      long n = syscall(SYS_write, fd, block, sizeof block);
      if (n != (long)sizeof block) {
        say("fill", argv[2], n < 0 ? errno : ENOSPC);
        break;
      }
    }
    char buf[128];
    int n = snprintf(buf, sizeof buf, "plant: filled %ld MiB\n", done);
    if (n > 0) sample_write_all(2, buf, (size_t)n);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "dir") == 0) {
    syscall(SYS_unlinkat, AT_FDCWD, argv[2], 0);
    if (syscall(SYS_mkdirat, AT_FDCWD, argv[2], 0777) != 0) sample_die("mkdirat");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "garbage") == 0) {
    long fd = syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) sample_die("openat");
    sample_write_all((int)fd, "{not json", 9);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "symlink") == 0) {
    syscall(SYS_unlinkat, AT_FDCWD, argv[3], 0);
    if (syscall(SYS_symlinkat, argv[2], AT_FDCWD, argv[3]) != 0) sample_die("symlinkat");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "fifo") == 0) {
    if (syscall(SYS_mknodat, AT_FDCWD, argv[2], S_IFIFO | 0666, 0) != 0) sample_die("mknodat");
    return 0;
  }
  torture_fail("usage: plant symlink TARGET LINK | fifo PATH | dir PATH | garbage PATH | forge PATH... | fill PATH MIB | steal SRC DIR SOCKET", 2);
}
