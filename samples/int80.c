// int80: a 64-bit static program that also enters the kernel through the
// 32-bit gate (`int $0x80`), which the kernel treats as an i386 syscall
// (AUDIT_ARCH_I386, i386 numbers, 32-bit arguments). A profile that lists
// only SCMP_ARCH_X86_64 kills or denies these calls; the tracer must record
// them under SCMP_ARCH_X86.
#include <sys/mman.h>

#include "common.h"

// i386 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl). Written by
// hand on purpose: this sample must make exactly these 32-bit calls.
#define I386_NR_write 4
#define I386_NR_getpid 20

static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(nr), "b"(a), "c"(b), "d"(c)
                   : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

int main(int argc, char** argv) {
  // --probe: only "does this kernel run int $0x80 from 64-bit code", for the
  // tests. Exit 0 when it does; 1 when getpid disagrees. With 32-bit
  // emulation off at run time (ia32_emulation=0, confidential guests) the
  // instruction faults before any syscall and the process dies of SIGSEGV.
  const int probe = argc > 1 && strcmp(argv[1], "--probe") == 0;
  long pid64 = syscall(SYS_getpid);
  long pid32 = int80(I386_NR_getpid, 0, 0, 0);
  if (probe) return pid32 == pid64 ? 0 : 1;
  if (pid32 != pid64) {
    errno = pid32 < 0 ? (int)-pid32 : 0;
    sample_die("int $0x80 getpid");
  }
  // int $0x80 truncates pointers to 32 bits: the buffer must live below 4 GiB.
  char* low = (char*)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED) sample_die("mmap MAP_32BIT");
  static const char msg[] = "int80: 32-bit write ok\n";
  memcpy(low, msg, sizeof msg - 1);
  long w = int80(I386_NR_write, 1, (long)(uintptr_t)low, sizeof msg - 1);
  if (w != (long)(sizeof msg - 1)) {
    errno = w < 0 ? (int)-w : 0;
    sample_die("int $0x80 write");
  }
  if (sample_puts("int80: ok\n") != 0) sample_die("write");
  sample_finish(argc, argv);
  return 0;
}
