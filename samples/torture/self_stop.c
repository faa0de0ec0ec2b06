// self_stop: tracees that stop themselves and are continued.
//   1. A child stops itself with SIGSTOP; the parent sees the stop
//      (waitpid WUNTRACED), sends SIGCONT, the child makes getpgrp and
//      exits 0.
//   2. The same with SIGTSTP (the child first makes its own process group,
//      so the group is not orphaned and the stop is not discarded).
//   3. The main process stops itself; a helper child waits until it is
//      stopped ('T', or 't' under a ptracer), sends SIGCONT and reports what
//      it saw on a pipe; the main process then makes getitimer.
// Markers: getpgrp (2), getitimer (1). Exit status 0 (5 when the main
// process never looked stopped to its helper).
#include <sys/time.h>

#include "torture.h"

static void stop_and_continue(int sig) {
  pid_t pid = fork();
  if (pid < 0) sample_die("fork");
  if (pid == 0) {
    if (sig == SIGTSTP) syscall(SYS_setpgid, 0, 0);
    syscall(SYS_kill, syscall(SYS_getpid), sig);
    syscall(SYS_getpgrp);
    syscall(SYS_exit_group, 0);
  }
  int st = 0;
  while (syscall(SYS_wait4, pid, &st, WUNTRACED, NULL) < 0)
    if (errno != EINTR) sample_die("wait4");
  if (!WIFSTOPPED(st) || WSTOPSIG(st) != sig) torture_fail("the child's stop was not reported", 1);
  syscall(SYS_kill, pid, SIGCONT);
  st = torture_wait(pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the continued child did not exit 0", 1);
}

int main(void) {
  stop_and_continue(SIGSTOP);
  stop_and_continue(SIGTSTP);

  int p[2];
  if (pipe(p) != 0) sample_die("pipe");
  pid_t self = (pid_t)syscall(SYS_getpid);
  pid_t helper = fork();
  if (helper < 0) sample_die("fork");
  if (helper == 0) {
    char seen = torture_await_state(self, "Tt", 3000);
    syscall(SYS_kill, self, SIGCONT);
    syscall(SYS_write, p[1], &seen, 1);
    syscall(SYS_exit_group, 0);
  }
  syscall(SYS_kill, self, SIGSTOP);
  struct itimerval it;
  syscall(SYS_getitimer, ITIMER_REAL, &it);
  char seen = 0;
  if (syscall(SYS_read, p[0], &seen, 1) != 1) sample_die("read");
  int st = torture_wait(helper);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the helper did not exit 0", 1);
  if (seen != 'T' && seen != 't') {
    char msg[64];
    snprintf(msg, sizeof msg, "the main process never looked stopped (state '%c')", seen ? seen : '?');
    torture_fail(msg, 5);
  }
  sample_puts("self_stop: ok\n");
  return 0;
}
