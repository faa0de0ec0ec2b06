// daemonize: a program whose first process exits while a child lives on,
// like a service that forks into the background.
//
//   daemonize [SLEEPS]
//
// The parent forks (raw clone), waits until the child runs, prints
// "daemonize: parent exits" and exits 0. The child waits for the parent's end
// (EOF on a pipe only the parent holds open, then getppid() no longer the
// parent: it has been re-parented), then makes SLEEPS 50 ms clock_nanosleep
// calls (default: endless) and exits 0.
//
// Nothing but those sleeps (and the final exit_group) follows the parent's
// end, and the parent makes every other call the child makes. As a
// container's main process the parent's exit ends the container: the kernel
// kills the rest of the PID namespace before re-parenting anything, so no
// clock_nanosleep is part of the container's life. Run locally, the child's
// sleeps are part of the workload until it exits.
#include <signal.h>
#include <time.h>

#include "common.h"

int main(int argc, char** argv) {
  const long sleeps = argc > 1 ? strtol(argv[1], NULL, 10) : -1;
  int ready[2], life[2];
  if (syscall(SYS_pipe2, ready, O_CLOEXEC) != 0 || syscall(SYS_pipe2, life, O_CLOEXEC) != 0) sample_die("pipe2");
  const long parent = syscall(SYS_getpid);
  syscall(SYS_getppid);  // the child's wait loop makes it, maybe before the parent's end: made here too
  const long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) sample_die("clone");
  if (pid == 0) {
    char c = 'r';
    if (syscall(SYS_close, life[1]) != 0) sample_die("close");
    if (syscall(SYS_write, ready[1], &c, 1) != 1) sample_die("write");
    // EOF once the parent's files are closed, early in its exit; re-parented
    // a little later.
    while (syscall(SYS_read, life[0], &c, 1) < 0 && errno == EINTR) {
    }
    while (syscall(SYS_getppid) == parent) {
    }
    const struct timespec nap = {0, 50 * 1000 * 1000};
    for (long i = 0; sleeps < 0 || i < sleeps; ++i) syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &nap, NULL);
    syscall(SYS_exit_group, 0);
  }
  char c;
  if (syscall(SYS_read, ready[0], &c, 1) != 1) sample_die("read");
  if (sample_puts("daemonize: parent exits\n") != 0) sample_die("write");
  syscall(SYS_exit_group, 0);
  return 0;
}
