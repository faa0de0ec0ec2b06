// mt_loop N: 8 threads, each doing N iterations of getppid plus a 4 KiB
// write to /dev/null. The multi-threaded benchmark workload: a tracer that
// serializes threads shows here.
#include <pthread.h>

#include "common.h"

#define THREADS 8

static long iterations = 1000;
static long devnull = -1;

static void* worker(void* arg) {
  (void)arg;
  static __thread char page[4096];
  for (long i = 0; i < iterations; ++i) {
    if (syscall(SYS_getppid) <= 0) return (void*)1L;
    if (syscall(SYS_write, devnull, page, sizeof page) != (long)sizeof page) return (void*)1L;
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1 && argv[1][0] != '-') iterations = strtol(argv[1], NULL, 10);
  devnull = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) sample_die("openat /dev/null");
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    int err = pthread_create(&th[i], NULL, worker, NULL);
    if (err != 0) {
      errno = err;
      sample_die("pthread_create");
    }
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
  int len = snprintf(msg, sizeof msg, "mt_loop: %d x %ld iterations\n", THREADS, iterations);
  sample_write_all(1, msg, (size_t)len);
  sample_finish(argc, argv);
  return 0;
}
