// threads64 N [--exit-early]: 64 threads released together by a barrier,
// each doing N iterations of getppid plus a 64-byte write to /dev/null, so
// that up to 64 syscalls wait on the tracer at the same moment. Prints
// "threads64: 64 x N iterations" and exits 0.
//
// --exit-early: the main thread calls exit_group once every worker has
// started, while they are still looping: the workers die in the middle of
// their syscalls (a notify supervisor then answers tasks that are gone).
#include <pthread.h>

#include "common.h"

#define THREADS 64

static long iterations = 1000;
static long devnull = -1;
static pthread_barrier_t start;
static volatile long started = 0;

static void* worker(void* arg) {
  (void)arg;
  char buf[64] = {0};
  pthread_barrier_wait(&start);
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  for (long i = 0; i < iterations; ++i) {
    if (syscall(SYS_getppid) <= 0) return (void*)1L;
    if (syscall(SYS_write, devnull, buf, sizeof buf) != (long)sizeof buf) return (void*)1L;
  }
  return NULL;
}

int main(int argc, char** argv) {
  int exit_early = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--exit-early") == 0) exit_early = 1;
    else if (argv[i][0] != '-') iterations = strtol(argv[i], NULL, 10);
  }
  devnull = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) sample_die("openat /dev/null");
  pthread_barrier_init(&start, NULL, THREADS + 1);
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    int err = pthread_create(&th[i], NULL, worker, NULL);
    if (err != 0) {
      errno = err;
      sample_die("pthread_create");
    }
  }
  pthread_barrier_wait(&start);
  if (exit_early) {
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < THREADS) syscall(SYS_sched_yield);
    sample_puts("threads64: exiting early\n");
    syscall(SYS_exit_group, 0);
  }
  int failed = 0;
  for (int i = 0; i < THREADS; ++i) {
    void* ret = NULL;
    pthread_join(th[i], &ret);
    if (ret != NULL) failed = 1;
  }
  if (failed) {
    errno = 0;
    sample_die("a worker failed");
  }
  char msg[64];
  int len = snprintf(msg, sizeof msg, "threads64: %d x %ld iterations\n", THREADS, iterations);
  sample_write_all(1, msg, (size_t)len);
  sample_finish(argc, argv);
  return 0;
}
