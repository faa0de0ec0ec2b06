// clone3: processes made by the raw clone3 syscall (glibc has no wrapper).
//   1. CLONE_PIDFD: the child makes getpriority and exits 9; the parent waits
//      on the pidfd (waitid P_PIDFD) and checks the 9.
//   2. CLONE_VFORK: the parent is suspended until the child (getpriority,
//      exit 10) is gone; reaped with wait4.
// Markers: clone3 (2), getpriority (2), waitid (1). Exit status 0.
#include <linux/sched.h>
#include <sys/resource.h>

#include "torture.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static long clone3_child(struct clone_args* args, int code) {
  long r = syscall(SYS_clone3, args, sizeof *args);
  if (r == 0) {
    syscall(SYS_getpriority, PRIO_PROCESS, 0);
    syscall(SYS_exit_group, code);
  }
  return r;
}

int main(void) {
  int pidfd = -1;
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = CLONE_PIDFD;
  a.pidfd = (uint64_t)(uintptr_t)&pidfd;
  a.exit_signal = SIGCHLD;
  long pid = clone3_child(&a, 9);
  if (pid < 0) sample_die("clone3(CLONE_PIDFD)");
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, NULL) != 0) sample_die("waitid(P_PIDFD)");
  if (info.si_pid != pid || info.si_code != CLD_EXITED || info.si_status != 9)
    torture_fail("clone3 child did not exit 9", 1);
  syscall(SYS_close, pidfd);

  memset(&a, 0, sizeof a);
  a.flags = CLONE_VFORK;
  a.exit_signal = SIGCHLD;
  pid = clone3_child(&a, 10);
  if (pid < 0) sample_die("clone3(CLONE_VFORK)");
  int st = torture_wait((pid_t)pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 10) torture_fail("clone3 vfork child did not exit 10", 1);
  sample_puts("clone3: ok\n");
  return 0;
}
