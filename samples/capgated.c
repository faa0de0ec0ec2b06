// capgated: one syscall Docker's default seccomp template allows only with a
// capability (kcmp: CAP_SYS_PTRACE), made harmlessly on the process itself,
// for the tests of a container's configured capability set. Prints
// "capgated: kcmp <errno name>" and exits 0 whatever kcmp answered: under a
// container without the capability the template's errno is the answer.
#include <linux/kcmp.h>

#include "common.h"

int main(int argc, char** argv) {
  long pid = syscall(SYS_getpid);
  long r = syscall(SYS_kcmp, pid, pid, KCMP_VM, 0, 0);
  char line[96];
  snprintf(line, sizeof line, "capgated: kcmp %s\n", sample_errno_name(r < 0 ? errno : 0));
  if (sample_puts(line) != 0) sample_die("write");
  sample_finish(argc, argv);
  return 0;
}
