// affinity: call-site attribution workload. The distinctive syscall
// (sched_getaffinity) is made by sample_probe_affinity() in the shared library
// libsctrace_affinity.so this program links (found beside it: RPATH $ORIGIN).
//
//   affinity              sched_getaffinity from the library, print "affinity: N cpus"
//   affinity --extra      also sample_probe_extra(): sched_getscheduler + getpriority
//   affinity --jit        also a getppid made from anonymous executable memory
//                         (no module, no symbols: a JIT's frame); x86_64 only
//   affinity --exit-race  4 threads making syscalls while the main thread ends
//                         the process at once (tasks exit while being unwound)
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "affinity.h"

static int jit_getppid(void) {
#if defined(__x86_64__)
  // mov eax, SYS_getppid; syscall; ret
  static const unsigned char code[] = {0xb8, SYS_getppid, 0, 0, 0, 0x0f, 0x05, 0xc3};
  void* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return -1;
  memcpy(page, code, sizeof code);
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) return -1;
  int (*fn)(void) = (int (*)(void))page;
  return fn();
#else
  return (int)syscall(SYS_getppid);
#endif
}

static void* racer(void* arg) {
  long n = (long)arg;
  for (;;) {
    // Distinct syscalls per thread: each is a first occurrence, so each is unwound.
    switch (n) {
      case 0: syscall(SYS_getuid); break;
      case 1: syscall(SYS_getgid); break;
      case 2: syscall(SYS_geteuid); break;
      default: syscall(SYS_getegid); break;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  int extra = 0, jit = 0, race = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--extra") == 0) extra = 1;
    else if (strcmp(argv[i], "--jit") == 0) jit = 1;
    else if (strcmp(argv[i], "--exit-race") == 0) race = 1;
  }
  if (race) {
    pthread_t t;
    for (long i = 0; i < 4; ++i) pthread_create(&t, NULL, racer, (void*)i);
    syscall(SYS_exit_group, 0);
  }
  int cpus = sample_probe_affinity();
  if (extra) sample_probe_extra();
  if (jit) printf("affinity: jit getppid %s\n", jit_getppid() > 0 ? "ok" : "failed");
  printf("affinity: %d cpus\n", cpus);
  return cpus > 0 ? 0 : 1;
}
