// prefork_server: the classic pre-forking shape. As root the parent binds
// port 80 (argv[1] overrides), forks 2 workers that drop to nobody
// (setgroups(0)/setgid(65534)/setuid(65534)) and serve HTTP like http_server
// on the shared socket. The parent forwards SIGTERM/SIGINT to the workers,
// reaps them and exits 0 (1 if a worker failed or died early). --danger=NAME
// is attempted by the parent after the workers are reaped.
#include <sys/wait.h>

#include "http_common.h"

#define WORKERS 2
#define NOBODY 65534

static int worker(int lfd, int parent_sigfd) {
  syscall(SYS_close, parent_sigfd);
  // The blocked mask came along with fork; a fresh signalfd reads this
  // process's own pending signals.
  int sigfd = http_signalfd(http_sigbit(SIGTERM) | http_sigbit(SIGINT));
  if (syscall(SYS_setgroups, 0, NULL) != 0) sample_die("setgroups");
  if (syscall(SYS_setgid, NOBODY) != 0) sample_die("setgid");
  if (syscall(SYS_setuid, NOBODY) != 0) sample_die("setuid");
  if (syscall(SYS_getuid) != NOBODY || syscall(SYS_getgid) != NOBODY) {
    errno = EPERM;
    sample_die("dropping privileges");
  }
  http_serve(lfd, sigfd);
  return 0;
}

int main(int argc, char** argv) {
  int port = http_port_arg(argc, argv, 80);
  int sigfd = http_signalfd(http_sigbit(SIGTERM) | http_sigbit(SIGINT) | http_sigbit(SIGCHLD));
  int lfd = http_listen(port);

  long pids[WORKERS];
  for (int i = 0; i < WORKERS; ++i) {
    // Plain fork through clone(SIGCHLD): the same arguments on every arch.
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) sample_die("clone");
    if (pid == 0) syscall(SYS_exit_group, worker(lfd, sigfd));
    pids[i] = pid;
  }
  char msg[96];
  int n = snprintf(msg, sizeof msg, "prefork_server: listening on %d with %d workers\n", port, WORKERS);
  if (n > 0) sample_write_all(1, msg, (size_t)n);

  int failed = 0, alive = WORKERS, stopping = 0;
  while (alive > 0) {
    struct signalfd_siginfo si;
    long r = syscall(SYS_read, sigfd, &si, sizeof si);
    if (r < 0 && errno == EINTR) continue;
    if (r != (long)sizeof si) sample_die("read signalfd");
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
      stopping = 1;
      for (int i = 0; i < WORKERS; ++i)
        if (pids[i] > 0) syscall(SYS_kill, pids[i], SIGTERM);
      continue;
    }
    // SIGCHLD: reap whatever finished (signals coalesce, so loop).
    for (;;) {
      int status = 0;
      long pid = syscall(SYS_wait4, -1, &status, WNOHANG, NULL);
      if (pid <= 0) break;
      for (int i = 0; i < WORKERS; ++i)
        if (pids[i] == pid) {
          pids[i] = 0;
          --alive;
        }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
      if (!stopping) {
        n = snprintf(msg, sizeof msg, "prefork_server: worker %ld died early, stopping\n", pid);
        if (n > 0) sample_write_all(2, msg, (size_t)n);
        failed = stopping = 1;
        for (int i = 0; i < WORKERS; ++i)
          if (pids[i] > 0) syscall(SYS_kill, pids[i], SIGTERM);
      }
    }
  }
  syscall(SYS_close, lfd);
  n = snprintf(msg, sizeof msg, "prefork_server: workers done, exiting\n");
  if (n > 0) sample_write_all(1, msg, (size_t)n);
  if (failed) syscall(SYS_exit_group, 1);
  sample_finish(argc, argv);
  return 0;
}
