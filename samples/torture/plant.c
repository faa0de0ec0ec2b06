// plant: what a hostile workload does to the places sctrace writes or reads
// (tests/e2e/test_faults.py). Static, so it runs in a FROM-scratch image.
//   plant symlink TARGET LINK   symlink(TARGET, LINK), replacing LINK
//   plant fifo PATH             mkfifo(PATH, 0666)
// Exit 0 when done, 1 on failure.
#include <sys/stat.h>

#include "torture.h"

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "symlink") == 0) {
    syscall(SYS_unlinkat, AT_FDCWD, argv[3], 0);
    if (syscall(SYS_symlinkat, argv[2], AT_FDCWD, argv[3]) != 0) sample_die("symlinkat");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "fifo") == 0) {
    if (syscall(SYS_mknodat, AT_FDCWD, argv[2], S_IFIFO | 0666, 0) != 0) sample_die("mknodat");
    return 0;
  }
  torture_fail("usage: plant symlink TARGET LINK | plant fifo PATH", 2);
}
