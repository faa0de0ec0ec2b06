// loop N: N iterations of getppid plus a 4 KiB write to /dev/null. The
// syscall-heavy benchmark workload (2N+ syscalls, almost no user time).
#include "common.h"

int main(int argc, char** argv) {
  long n = argc > 1 && argv[1][0] != '-' ? strtol(argv[1], NULL, 10) : 1000;
  long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) sample_die("openat /dev/null");
  static char page[4096];
  for (long i = 0; i < n; ++i) {
    if (syscall(SYS_getppid) <= 0) sample_die("getppid");
    if (syscall(SYS_write, fd, page, sizeof page) != (long)sizeof page) sample_die("write /dev/null");
  }
  syscall(SYS_close, fd);
  char msg[64];
  int len = snprintf(msg, sizeof msg, "loop: %ld iterations\n", n);
  sample_write_all(1, msg, (size_t)len);
  sample_finish(argc, argv);
  return 0;
}
