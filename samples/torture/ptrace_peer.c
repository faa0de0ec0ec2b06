// ptrace_peer: a tracee that tries to be traced or to trace.
//   1. A child calls PTRACE_TRACEME (EPERM when sctrace's ptrace backend
//      already traces it; allowed otherwise) and exits.
//   2. A child tries PTRACE_ATTACH on its sibling, which blocks in read
//      (EPERM under a ptracer; allowed for root otherwise, and then it waits
//      for the stop and detaches). The parent then releases the sibling.
// Prints "traceme: <errno name|OK>" and "attach: <errno name|OK>".
// Marker: ptrace (>= 2). Exit status 0.
#include "torture.h"

static int report(const char* what, long r) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s: %s\n", what, sample_errno_name(r < 0 ? errno : 0));
  sample_puts(buf);
  return r < 0 ? errno : 0;
}

int main(void) {
  pid_t c = fork();
  if (c < 0) sample_die("fork");
  if (c == 0) {
    report("traceme", syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
    syscall(SYS_exit_group, 0);
  }
  int st = torture_wait(c);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the TRACEME child did not exit 0", 1);

  int p[2];
  if (pipe(p) != 0) sample_die("pipe");
  pid_t sibling = fork();
  if (sibling < 0) sample_die("fork");
  if (sibling == 0) {
    char ch;
    syscall(SYS_read, p[0], &ch, 1);
    syscall(SYS_exit_group, 0);
  }
  pid_t attacher = fork();
  if (attacher < 0) sample_die("fork");
  if (attacher == 0) {
    long r = syscall(SYS_ptrace, PTRACE_ATTACH, sibling, 0, 0);
    report("attach", r);
    if (r == 0) {
      int s;
      while (syscall(SYS_wait4, sibling, &s, __WALL, NULL) < 0 && errno == EINTR) {
      }
      syscall(SYS_ptrace, PTRACE_DETACH, sibling, 0, 0);
    }
    syscall(SYS_exit_group, 0);
  }
  st = torture_wait(attacher);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the attacher did not exit 0", 1);
  char ch = 'x';
  syscall(SYS_write, p[1], &ch, 1);
  st = torture_wait(sibling);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the sibling did not exit 0", 1);
  return 0;
}
