// x32call: a 64-bit static program that makes one call through the x32 ABI:
// getpid with __X32_SYSCALL_BIT (0x40000000) set in its number. The kernel
// reports it as AUDIT_ARCH_X86_64 with that bit in nr, which libseccomp files
// under its own SCMP_ARCH_X32 token; the tracer must record it under
// SCMP_ARCH_X32. Most distribution kernels leave the x32 ABI off
// (CONFIG_X86_X32_ABI=n or syscall.x32=n): the call then fails with ENOSYS,
// after seccomp and the tracer have seen it, so the recording is the same.
// Prints "x32call: getpid -> OK" or "-> ENOSYS" and exits 0 either way.
#include "common.h"

#define X32_SYSCALL_BIT 0x40000000L
#define X32_NR_getpid 39  // arch/x86/entry/syscalls/syscall_64.tbl: "common getpid"

int main(int argc, char** argv) {
#if defined(__x86_64__)
  long pid64 = syscall(SYS_getpid);
  errno = 0;
  long pid32 = syscall(X32_SYSCALL_BIT | X32_NR_getpid);
  int err = pid32 < 0 ? errno : 0;
  if (err == 0 && pid32 != pid64) {
    errno = 0;
    sample_die("x32 getpid returned another pid");
  }
  if (err != 0 && err != ENOSYS) sample_die("x32 getpid");
  char buf[64];
  int n = snprintf(buf, sizeof buf, "x32call: getpid -> %s\n", sample_errno_name(err));
  if (n > 0 && sample_write_all(1, buf, (size_t)n) != 0) sample_die("write");
#else
  if (sample_puts("x32call: no x32 ABI on this arch\n") != 0) sample_die("write");
#endif
  sample_finish(argc, argv);
  return 0;
}
