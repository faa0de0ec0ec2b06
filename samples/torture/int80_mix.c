// int80_mix: 32-bit syscalls (int $0x80) from a forked child, including two
// that exist only in the i386 table (waitpid, and exit_group with the i386
// number 252). Markers under SCMP_ARCH_X86: getpid, waitpid, exit_group;
// the child exits 6 through the 32-bit exit_group and the parent checks it.
// Exit status 0.
#include "torture.h"

// i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl), by hand on purpose.
#define I386_NR_waitpid 7
#define I386_NR_getpid 20
#define I386_NR_exit_group 252

static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

int main(void) {
  pid_t child = fork();
  if (child < 0) sample_die("fork");
  if (child == 0) {
    if (int80(I386_NR_getpid, 0, 0, 0) != syscall(SYS_getpid)) syscall(SYS_exit_group, 1);
    // No children: -ECHILD, whatever the pointer (NULL) would have been.
    if (int80(I386_NR_waitpid, -1, 0, WNOHANG) != -ECHILD) syscall(SYS_exit_group, 1);
    int80(I386_NR_exit_group, 6, 0, 0);
    syscall(SYS_exit_group, 1);
  }
  int st = torture_wait(child);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 6) torture_fail("the 32-bit child did not exit 6", 1);
  sample_puts("int80_mix: ok\n");
  return 0;
}
