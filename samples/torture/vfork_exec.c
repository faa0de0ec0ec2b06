// vfork_exec: vfork + execve, and vfork + _exit without exec.
//   1. vfork; the child execs this binary with "--child", which makes
//      times once and exits 3; the parent reaps it and checks the 3.
//   2. vfork; the child makes getppid and _exits 4 (still sharing the
//      parent's memory); the parent checks the 4.
// Then the parent makes getrusage. Markers: vfork (2), times (1), getppid
// (1), getrusage (1). Exit status 0.
#include <sys/resource.h>
#include <sys/times.h>

#include "torture.h"

extern char** environ;

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child") == 0) {
    struct tms t;
    syscall(SYS_times, &t);
    syscall(SYS_exit_group, 3);
  }
  pid_t pid = vfork();
  if (pid < 0) sample_die("vfork");
  if (pid == 0) {
    char* args[] = {"vfork_exec", "--child", NULL};
    syscall(SYS_execve, "/proc/self/exe", args, environ);
    _exit(127);
  }
  int st = torture_wait(pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 3) torture_fail("vfork+exec child did not exit 3", 1);

  pid = vfork();
  if (pid < 0) sample_die("vfork");
  if (pid == 0) {
    syscall(SYS_getppid);
    _exit(4);
  }
  st = torture_wait(pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 4) torture_fail("vfork+_exit child did not exit 4", 1);

  struct rusage ru;
  syscall(SYS_getrusage, RUSAGE_CHILDREN, &ru);
  sample_puts("vfork_exec: ok\n");
  return 0;
}
