// many_threads [N]: N threads (default 256) alive at once; each makes getcpu
// once, waits on a barrier with all the others, and exits. Markers: getcpu
// exactly N times, exit exactly N times. Exit status 0.
#include <pthread.h>

#include "torture.h"

static pthread_barrier_t barrier;

static void* worker(void* arg) {
  (void)arg;
  unsigned cpu, node;
  if (syscall(SYS_getcpu, &cpu, &node, NULL) != 0) return (void*)1;
  pthread_barrier_wait(&barrier);
  return NULL;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 256;
  pthread_t* th = calloc((size_t)n, sizeof *th);
  if (!th) torture_fail("calloc", 1);
  pthread_barrier_init(&barrier, NULL, (unsigned)n);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (long i = 0; i < n; ++i) {
    int err = pthread_create(&th[i], &attr, worker, NULL);
    if (err != 0) {
      errno = err;
      sample_die("pthread_create");
    }
  }
  long failed = 0;
  for (long i = 0; i < n; ++i) {
    void* r;
    pthread_join(th[i], &r);
    if (r) ++failed;
  }
  if (failed) torture_fail("a thread's getcpu failed", 1);
  char buf[64];
  snprintf(buf, sizeof buf, "many_threads: %ld ok\n", n);
  sample_puts(buf);
  return 0;
}
