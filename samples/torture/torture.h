#pragma once
// Shared by the torture samples (tests/e2e/test_torture.py): each sample makes
// a few "marker" syscalls that nothing else in it makes, at the point that is
// hard for a tracer (after an exec from a thread, in an orphan, after a
// stop...), so the test can tell a lost syscall from a recorded one. Markers
// go through raw syscall(2) so libc never adds or hides one.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../common.h"

// Sleeps ms milliseconds with raw nanosleep (restarted on EINTR).
static inline void torture_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (syscall(SYS_nanosleep, &ts, &ts) != 0 && errno == EINTR) {
  }
}

// Reaps pid; returns its wait status (dies on error).
static inline int torture_wait(pid_t pid) {
  int st = 0;
  while (syscall(SYS_wait4, pid, &st, __WALL, NULL) < 0) {
    if (errno != EINTR) sample_die("wait4");
  }
  return st;
}

// Prints "sample: what" and exits with code (a failed expectation).
static inline void torture_fail(const char* what, int code) {
  char buf[256];
  int n = snprintf(buf, sizeof buf, "torture: %s\n", what);
  if (n > 0) sample_write_all(2, buf, (size_t)n);
  syscall(SYS_exit_group, code);
  __builtin_unreachable();
}

// The state letter of /proc/PID/stat ('R', 'S', 'T', 't', ...), or 0.
static inline char torture_proc_state(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long n = syscall(SYS_read, fd, buf, sizeof buf - 1);
  syscall(SYS_close, fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

// Waits (up to ms) until pid's state is one of `states`; returns the state
// seen last.
static inline char torture_await_state(pid_t pid, const char* states, long ms) {
  char s = 0;
  for (long waited = 0; waited <= ms; waited += 5) {
    s = torture_proc_state(pid);
    if (s && strchr(states, s)) return s;
    torture_sleep_ms(5);
  }
  return s;
}
