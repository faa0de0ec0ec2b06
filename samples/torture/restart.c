// restart: signals during blocking syscalls.
//   1. A child sleeps 400 ms in clock_nanosleep; the parent stops it
//      (SIGSTOP) and continues it (SIGCONT) during the sleep. No handler
//      runs, so the kernel resumes the sleep through restart_syscall.
//   2. A SA_RESTART SIGALRM handler fires (setitimer) while read blocks on
//      a pipe: the handler runs (rt_sigreturn), read is restarted and gets
//      the byte a child writes later.
//   3. The same without SA_RESTART: read fails with EINTR.
// Markers: restart_syscall (>= 1), clock_nanosleep (>= 1), setitimer,
// rt_sigreturn (>= 2). Exit status 0.
#include <sys/time.h>

#include "torture.h"

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
  (void)sig;
  ++alarms;
}

static void arm(long ms) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = ms / 1000;
  it.it_value.tv_usec = (ms % 1000) * 1000;
  if (syscall(SYS_setitimer, ITIMER_REAL, &it, NULL) != 0) sample_die("setitimer");
}

// Reads one byte from a pipe a child fills after `delay` ms, with a SIGALRM
// handler (flags) firing after 50 ms. Returns read's result, errno kept.
static long read_interrupted(int flags, long delay) {
  int p[2];
  if (pipe(p) != 0) sample_die("pipe");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = flags;
  sigaction(SIGALRM, &sa, NULL);
  pid_t writer = fork();
  if (writer < 0) sample_die("fork");
  if (writer == 0) {
    torture_sleep_ms(delay);
    char c = 'x';
    syscall(SYS_write, p[1], &c, 1);
    syscall(SYS_exit_group, 0);
  }
  int before = alarms;
  arm(50);
  char c = 0;
  long r = syscall(SYS_read, p[0], &c, 1);
  int err = errno;
  torture_wait(writer);
  syscall(SYS_close, p[0]);
  syscall(SYS_close, p[1]);
  if (alarms == before) torture_fail("SIGALRM did not arrive", 1);
  errno = err;
  return r;
}

int main(void) {
  int ready[2];
  if (pipe(ready) != 0) sample_die("pipe");
  pid_t sleeper = fork();
  if (sleeper < 0) sample_die("fork");
  if (sleeper == 0) {
    char c = 'r';
    syscall(SYS_write, ready[1], &c, 1);
    struct timespec ts = {0, 400 * 1000000L};
    long r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
    syscall(SYS_exit_group, r == 0 ? 0 : 2);
  }
  char c;
  if (syscall(SYS_read, ready[0], &c, 1) != 1) sample_die("read");
  torture_await_state(sleeper, "S", 2000);
  torture_sleep_ms(50);
  syscall(SYS_kill, sleeper, SIGSTOP);
  int st = 0;
  while (syscall(SYS_wait4, sleeper, &st, WUNTRACED, NULL) < 0)
    if (errno != EINTR) sample_die("wait4");
  if (!WIFSTOPPED(st)) torture_fail("the sleeper did not stop", 1);
  syscall(SYS_kill, sleeper, SIGCONT);
  st = torture_wait(sleeper);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the resumed sleep did not complete", 1);

  if (read_interrupted(SA_RESTART, 200) != 1) torture_fail("read under SA_RESTART did not get the byte", 1);
  errno = 0;
  if (read_interrupted(0, 200) != -1 || errno != EINTR) torture_fail("read without SA_RESTART: no EINTR", 1);
  sample_puts("restart: ok\n");
  return 0;
}
