// fork_storm [N] [PARALLEL]: N processes (default 1000), at most PARALLEL
// (default 64) alive at once; each child makes getpgid once and exits 0.
// Marker: getpgid, exactly N times. Exit status 0 when every child exited 0.
#include "torture.h"

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  long parallel = argc > 2 ? atol(argv[2]) : 64;
  long started = 0, running = 0, bad = 0;
  while (started < n || running > 0) {
    if (started < n && running < parallel) {
      pid_t pid = fork();
      if (pid < 0) {
        if (errno == EAGAIN && running > 0) goto reap;  // pids or memory short: reap first
        sample_die("fork");
      }
      if (pid == 0) {
        syscall(SYS_getpgid, 0);
        syscall(SYS_exit_group, 0);
      }
      ++started;
      ++running;
      continue;
    }
  reap:;
    int st;
    if (syscall(SYS_wait4, -1, &st, 0, NULL) < 0) {
      if (errno == EINTR) continue;
      sample_die("wait4");
    }
    --running;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++bad;
  }
  if (bad) torture_fail("a child did not exit 0", 1);
  char buf[64];
  snprintf(buf, sizeof buf, "fork_storm: %ld ok\n", n);
  sample_puts(buf);
  return 0;
}
