// sigkill: processes killed by SIGKILL while blocked inside a syscall.
//   1. A child makes getsid, says so on a pipe, and blocks in read; the
//      parent SIGKILLs it there and checks it died of SIGKILL.
//   2. The parent itself blocks in read while a helper child (marker:
//      sched_getparam) SIGKILLs it; the helper is then the last process.
// Markers: getsid (1), kill (2), sched_getparam (1). Exit status: killed by
// SIGKILL (137 from a shell).
#include <sched.h>

#include "torture.h"

int main(void) {
  int ready[2], block[2];
  if (pipe(ready) != 0 || pipe(block) != 0) sample_die("pipe");
  pid_t child = fork();
  if (child < 0) sample_die("fork");
  if (child == 0) {
    char c = 'r';
    syscall(SYS_getsid, 0);
    syscall(SYS_write, ready[1], &c, 1);
    syscall(SYS_read, block[0], &c, 1);  // never returns: nobody writes
    syscall(SYS_exit_group, 1);
  }
  char c;
  if (syscall(SYS_read, ready[0], &c, 1) != 1) sample_die("read ready");
  // It said so before it entered read: wait until it sleeps in it.
  torture_await_state(child, "S", 2000);
  syscall(SYS_kill, child, SIGKILL);
  int st = torture_wait(child);
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) torture_fail("the child did not die of SIGKILL", 1);

  pid_t self = (pid_t)syscall(SYS_getpid);
  pid_t killer = fork();
  if (killer < 0) sample_die("fork");
  if (killer == 0) {
    struct sched_param sp;
    torture_await_state(self, "S", 2000);
    torture_sleep_ms(20);
    syscall(SYS_sched_getparam, 0, &sp);
    syscall(SYS_kill, self, SIGKILL);
    syscall(SYS_exit_group, 0);
  }
  sample_puts("sigkill: blocking until killed\n");
  syscall(SYS_read, block[0], &c, 1);
  torture_fail("the parent was not killed", 1);
}
