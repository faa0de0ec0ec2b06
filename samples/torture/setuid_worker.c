// setuid_worker: a root process forks a worker that drops to nobody
// (setgroups, setresgid, setresuid 65534) and keeps making syscalls after
// the drop; the parent keeps running as root. Markers: setresuid (1),
// getresuid (1, made as nobody), getresgid (1, as nobody). Exit status 0
// (77 when not started as root).
#include <grp.h>

#include "torture.h"

int main(void) {
  if (syscall(SYS_geteuid) != 0) {
    sample_puts("setuid_worker: not root, nothing to test\n");
    return 77;
  }
  pid_t w = fork();
  if (w < 0) sample_die("fork");
  if (w == 0) {
    if (syscall(SYS_setgroups, 0, NULL) != 0) sample_die("setgroups");
    if (syscall(SYS_setresgid, 65534, 65534, 65534) != 0) sample_die("setresgid");
    if (syscall(SYS_setresuid, 65534, 65534, 65534) != 0) sample_die("setresuid");
    uid_t r, e, s;
    gid_t gr, ge, gs;
    syscall(SYS_getresuid, &r, &e, &s);
    syscall(SYS_getresgid, &gr, &ge, &gs);
    if (r != 65534 || e != 65534 || s != 65534 || ge != 65534) syscall(SYS_exit_group, 1);
    syscall(SYS_exit_group, 0);
  }
  int st = torture_wait(w);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) torture_fail("the nobody worker failed", 1);
  sample_puts("setuid_worker: ok\n");
  return 0;
}
