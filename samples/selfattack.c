// selfattack: a workload that turns on its tracer (tests/e2e/test_self_defence.py).
// Its parent is sctrace (local backends) or the sensor (PID 1 in a
// container). It tries to stop, read and signal that parent and prints one
// line per attempt, "selfattack: NAME ERRNO" ("OK" when it worked):
//   ptrace_attach, ptrace_seize, process_vm_readv, pidfd_open, pidfd_getfd
//   (on a pidfd when pidfd_open gave one, else on a /proc/PPID directory),
//   pidfd_send_signal (SIGSTOP through the /proc/PPID directory), kill
//   (SIGSTOP), tgkill (SIGSTOP);
//   with --group also kill_group (kill(0, SIGSTOP): its process group).
// Then "selfattack: own_kill OK" when SIGTERM to a child of its own still
// works, and exit 0 (with --wait: "selfattack: waiting", then it waits for a
// signal). Under a tracer that does not defend itself the first
// attempt leaves the parent stopped and the run hangs.
// With SELFATTACK_TARGET=PID in the environment it turns on that process
// instead of its parent: a container that shares the host's pid namespace
// aims at sctrace, which runs the seccomp agent of the OCI path.
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static void report(const char* name, long r) {
  char line[96];
  snprintf(line, sizeof line, "selfattack: %s %s\n", name, sample_errno_name(r < 0 ? errno : 0));
  if (sample_puts(line) != 0) sample_die("write");
}

int main(int argc, char** argv) {
  const char* target = getenv("SELFATTACK_TARGET");
  const long ppid = target != NULL && *target != '\0' ? strtol(target, NULL, 10) : syscall(SYS_getppid);
  report("ptrace_attach", syscall(SYS_ptrace, PTRACE_ATTACH, ppid, 0, 0));
  report("ptrace_seize", syscall(SYS_ptrace, PTRACE_SEIZE, ppid, 0, 0));

  char buf[16];
  struct iovec local = {buf, sizeof buf};
  struct iovec remote = {buf, sizeof buf};  // an address in the parent; readable or not
  report("process_vm_readv", syscall(SYS_process_vm_readv, ppid, &local, 1, &remote, 1, 0));

  long pidfd = syscall(SYS_pidfd_open, ppid, 0);
  report("pidfd_open", pidfd);
  char path[32];
  snprintf(path, sizeof path, "/proc/%ld", ppid);
  long dirfd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) sample_die("open /proc/PPID");
  // Its own stdout, from the parent, had the parent let it.
  report("pidfd_getfd", syscall(SYS_pidfd_getfd, pidfd >= 0 ? pidfd : dirfd, 1, 0));
  report("pidfd_send_signal", syscall(SYS_pidfd_send_signal, dirfd, SIGSTOP, 0, 0));
  report("kill", syscall(SYS_kill, ppid, SIGSTOP));
  report("tgkill", syscall(SYS_tgkill, ppid, ppid, SIGSTOP));
  if (sample_has_flag(argc, argv, "--group")) report("kill_group", syscall(SYS_kill, 0, SIGSTOP));

  // Signals between its own processes are none of the tracer's business.
  long child = syscall(SYS_fork);
  if (child < 0) sample_die("fork");
  if (child == 0) {
    for (;;) syscall(SYS_pause);
  }
  if (syscall(SYS_kill, child, SIGTERM) != 0) sample_die("kill child");
  int status = 0;
  if (syscall(SYS_wait4, child, &status, 0, 0) != child) sample_die("wait4");
  report("own_kill", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM ? 0 : (errno = ECHILD, -1));
  if (sample_has_flag(argc, argv, "--wait")) {
    if (sample_puts("selfattack: waiting\n") != 0) sample_die("write");
    for (;;) syscall(SYS_pause);
  }
  return 0;
}
