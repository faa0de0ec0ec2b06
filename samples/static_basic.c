// static_basic: the smallest useful workload, linked statically so that no
// dynamic loader adds syscalls. getpid, openat /dev/null, read, write to
// stdout, close, then exit_group.
#include "common.h"

int main(int argc, char** argv) {
  long pid = syscall(SYS_getpid);
  if (pid <= 0) sample_die("getpid");
  long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) sample_die("openat /dev/null");
  char buf[16];
  if (syscall(SYS_read, fd, buf, sizeof buf) != 0) sample_die("read /dev/null");
  if (syscall(SYS_close, fd) != 0) sample_die("close");
  if (sample_puts("static_basic: ok\n") != 0) sample_die("write");
  sample_finish(argc, argv);
  return 0;
}
