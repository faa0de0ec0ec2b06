// threads: four pthreads, each making a syscall none of the others makes
// (getuid, sysinfo, getcpu, times), joined by the main thread. Shows that
// every thread of the workload is traced, not only the first. The threads
// start with clone3 (glibc 2.34+) and end with exit.
#include <linux/futex.h>
#include <pthread.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

#include "common.h"

static void* worker(void* arg) {
  long which = (long)arg;
  long r = 0;
  switch (which) {
    case 0: r = syscall(SYS_getuid); break;
    case 1: {
      struct sysinfo si;
      r = syscall(SYS_sysinfo, &si);
      break;
    }
    case 2: {
      unsigned cpu = 0, node = 0;
      r = syscall(SYS_getcpu, &cpu, &node, NULL);
      break;
    }
    case 3: {
      struct tms t;
      r = syscall(SYS_times, &t);
      break;
    }
  }
  return (void*)(r < 0 ? 1L : 0L);
}

int main(int argc, char** argv) {
  pthread_t th[4];
  for (long i = 0; i < 4; ++i) {
    int err = pthread_create(&th[i], NULL, worker, (void*)i);
    if (err != 0) {
      errno = err;
      sample_die("pthread_create");
    }
  }
  int failed = 0;
  for (int i = 0; i < 4; ++i) {
    void* ret = NULL;
    pthread_join(th[i], &ret);
    if (ret != NULL) failed = 1;
  }
  if (failed) {
    errno = 0;
    sample_die("a worker's syscall failed");
  }
  // pthread_join only calls futex when a worker has not exited yet, which is
  // a race; one explicit wake (no waiters: returns 0) makes the set stable.
  static int word;
  if (syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0) sample_die("futex");
  if (sample_puts("threads: ok\n") != 0) sample_die("write");
  sample_finish(argc, argv);
  return 0;
}
