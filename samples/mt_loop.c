// mt_loop N [--threads T] [--bytes B] [--forks P] [--exit-early]
//
// T threads (default 8) released together by a barrier, each doing N
// iterations (default 1000) of getppid plus a B-byte write (default 4096, at
// most 4096) to /dev/null, so that up to T syscalls wait on the tracer at
// the same moment. Prints "mt_loop: T x N iterations" and exits 0.
//
// --forks P: the threads fork P processes between them, each thread its
// share one at a time, N iterations before each fork; every child makes
// getpgid and exits 0. Up to T threads and T children are traced at once
// (bench/bench.py samples the tracer's peak memory under
// `mt_loop 20 --threads 64 --forks 1000`). Prints "mt_loop: T threads, P
// processes".
//
// --exit-early: the main thread calls exit_group once every worker has
// started, while they are still looping: the workers die in the middle of
// their syscalls (a notify supervisor then answers tasks that are gone).
// Prints "mt_loop: exiting early".
#include <pthread.h>
#include <sys/wait.h>

#include "common.h"

#define MAX_THREADS 1024
#define MAX_BYTES 4096

static long iterations = 1000, threads = 8, bytes = MAX_BYTES, forks = 0;
static long devnull = -1;
static pthread_barrier_t start;
static volatile long started = 0;

static int spin(void) {
  static __thread char page[MAX_BYTES];
  for (long i = 0; i < iterations; ++i) {
    if (syscall(SYS_getppid) <= 0) return -1;
    if (syscall(SYS_write, devnull, page, (size_t)bytes) != bytes) return -1;
  }
  return 0;
}

static int fork_one(void) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Only this thread exists in the child: raw syscalls, no libc state.
    syscall(SYS_getpgid, 0);
    syscall(SYS_exit_group, 0);
  }
  int st = 0;
  for (;;) {
    if (syscall(SYS_wait4, pid, &st, 0, NULL) == pid) break;
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void* worker(void* arg) {
  long index = (long)arg;
  pthread_barrier_wait(&start);
  __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
  if (forks == 0) return spin() == 0 ? NULL : (void*)1L;
  long share = forks / threads + (index < forks % threads ? 1 : 0);
  for (long p = 0; p < share; ++p)
    if (spin() != 0 || fork_one() != 0) return (void*)1L;
  return NULL;
}

static long number_arg(int argc, char** argv, int* i, long lo, long hi) {
  if (*i + 1 >= argc) sample_die("an option needs a number");
  long v = strtol(argv[++*i], NULL, 10);
  if (v < lo || v > hi) {
    errno = ERANGE;
    sample_die(argv[*i - 1]);
  }
  return v;
}

int main(int argc, char** argv) {
  int exit_early = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--exit-early") == 0) exit_early = 1;
    else if (strcmp(argv[i], "--threads") == 0) threads = number_arg(argc, argv, &i, 1, MAX_THREADS);
    else if (strcmp(argv[i], "--bytes") == 0) bytes = number_arg(argc, argv, &i, 1, MAX_BYTES);
    else if (strcmp(argv[i], "--forks") == 0) forks = number_arg(argc, argv, &i, 0, 100000);
    else if (argv[i][0] != '-') iterations = strtol(argv[i], NULL, 10);
  }
  devnull = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) sample_die("openat /dev/null");
  pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
  static pthread_t th[MAX_THREADS];
  for (long i = 0; i < threads; ++i) {
    int err = pthread_create(&th[i], NULL, worker, (void*)i);
    if (err != 0) {
      errno = err;
      sample_die("pthread_create");
    }
  }
  pthread_barrier_wait(&start);
  if (exit_early) {
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < threads) syscall(SYS_sched_yield);
    sample_puts("mt_loop: exiting early\n");
    syscall(SYS_exit_group, 0);
  }
  int failed = 0;
  for (long i = 0; i < threads; ++i) {
    void* ret = NULL;
    pthread_join(th[i], &ret);
    if (ret != NULL) failed = 1;
  }
  if (failed) {
    errno = 0;
    sample_die("a worker or child failed");
  }
  char msg[96];
  int len = forks ? snprintf(msg, sizeof msg, "mt_loop: %ld threads, %ld processes\n", threads, forks)
                  : snprintf(msg, sizeof msg, "mt_loop: %ld x %ld iterations\n", threads, iterations);
  sample_write_all(1, msg, (size_t)len);
  sample_finish(argc, argv);
  return 0;
}
