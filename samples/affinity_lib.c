// libsctrace_affinity.so: the library half of the `affinity` sample. Each
// probe makes its syscall from a named, non-inlined function so that call-site
// attribution has something distinctive to find in the stack.
#define _GNU_SOURCE
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "affinity.h"

__attribute__((noinline)) int sample_probe_affinity(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  return CPU_COUNT(&set);
}

// The "extra feature" (affinity --extra): two syscalls the base run never makes.
__attribute__((noinline)) int sample_probe_extra(void) {
  int policy = sched_getscheduler(0);
  int prio = getpriority(PRIO_PROCESS, 0);
  return policy + prio;
}
