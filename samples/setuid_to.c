// setuid_to UID: one raw setuid(UID) (issue 17: a profile allows the
// uid/gid-setting calls only with the ids recorded). Prints
// "setuid_to: setuid(UID) <errno name>" ("OK" when it succeeded) and exits 0
// when it succeeded, 1 otherwise. Run as root: without a filter setuid(0)
// and setuid(33) both succeed, so an EPERM comes from the profile.
#include "common.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    sample_write_all(2, "usage: setuid_to UID\n", 21);
    return 2;
  }
  long uid = strtol(argv[1], NULL, 10);
  long r = syscall(SYS_setuid, uid);
  int err = r < 0 ? errno : 0;
  char line[96];
  snprintf(line, sizeof line, "setuid_to: setuid(%ld) %s\n", uid, sample_errno_name(err));
  if (sample_puts(line) != 0) sample_die("write");
  sample_finish(argc, argv);
  return err == 0 ? 0 : 1;
}
