// daemon MODE: the workload's first process exits while others live on.
//   double-fork: the first child makes a new session, forks the daemon and
//                exits; the main process reaps it and exits 0 at once. The
//                daemon sleeps 300 ms, makes sched_getscheduler and exits.
//   orphan:      the main process forks a child and exits 5 at once; the
//                orphan sleeps 300 ms, makes sched_getscheduler and exits:
//                it is the last process of the workload.
// Marker: sched_getscheduler (1, made after the main process is gone).
// Exit status: 0 (double-fork), 5 (orphan).
#include "torture.h"

static void late_marker(void) {
  torture_sleep_ms(300);
  syscall(SYS_sched_getscheduler, 0);
  sample_puts("daemon: late marker made\n");
  syscall(SYS_exit_group, 0);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "double-fork") == 0) {
    pid_t first = fork();
    if (first < 0) sample_die("fork");
    if (first == 0) {
      syscall(SYS_setsid);
      pid_t daemon = fork();
      if (daemon < 0) sample_die("fork");
      if (daemon == 0) late_marker();
      syscall(SYS_exit_group, 0);
    }
    int st = torture_wait(first);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
  }
  if (strcmp(mode, "orphan") == 0) {
    pid_t child = fork();
    if (child < 0) sample_die("fork");
    if (child == 0) late_marker();
    return 5;
  }
  torture_fail("usage: daemon double-fork|orphan", 2);
}
