// untraced: a child made with CLONE_UNTRACED, which asks the kernel not to
// hand the child to the parent's tracer (issue 16, defect 7).
//   untraced clone    raw clone(CLONE_UNTRACED | SIGCHLD)
//   untraced clone3   raw clone3 with CLONE_UNTRACED in clone_args.flags; on
//                     ENOSYS, clone as above (what libc does)
// The child makes sync, sysinfo and getcwd and exits 0 when all three worked.
// A child whose syscalls fail cannot even exit_group: it faults instead, so
// the sample never hangs. Markers: sync (1), sysinfo (1), getcwd (1). Exit
// status 0, or 1 when the child did not exit 0.
#include <linux/sched.h>
#include <sys/sysinfo.h>

#include "torture.h"

static void child(void) {
  int bad = 0;
  struct sysinfo si;
  char cwd[4096];
  if (syscall(SYS_sync) != 0) bad = 1;
  if (syscall(SYS_sysinfo, &si) != 0) bad = 1;
  if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0) bad = 1;
  syscall(SYS_exit_group, bad ? 3 : 0);
  // exit_group itself failed (every syscall of this child does).
  __builtin_trap();
}

static long untraced_clone(void) {
  return syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
}

int main(int argc, char** argv) {
  if (argc != 2 || (strcmp(argv[1], "clone") != 0 && strcmp(argv[1], "clone3") != 0)) {
    sample_puts("usage: untraced clone|clone3\n");
    return 2;
  }
  long pid;
  if (strcmp(argv[1], "clone3") == 0) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.flags = CLONE_UNTRACED;
    a.exit_signal = SIGCHLD;
    pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid < 0 && errno == ENOSYS) pid = untraced_clone();
  } else {
    pid = untraced_clone();
  }
  if (pid < 0) sample_die(argv[1]);
  if (pid == 0) child();
  int st = torture_wait((pid_t)pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the CLONE_UNTRACED child failed", 1);
  sample_puts("untraced: ok\n");
  return 0;
}
