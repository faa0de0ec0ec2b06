// exec_threads MODE: execve while other threads of the process run.
//   leader: 4 threads spin on getcpu; the main thread execs.
//   worker: 4 threads spin on getcpu; a fifth (non-leader) thread execs, so
//           the kernel kills every other thread and the exec'ing thread takes
//           over the leader's pid (a ptracer sees PTRACE_EVENT_EXEC from a
//           tid that was not stopped before, and the leader vanishes silently).
// The new image (same binary, "--after-exec") makes sysinfo once and exits 7.
// Markers: getcpu (>= 4), sysinfo (exactly 1). Exit status 7.
#include <pthread.h>
#include <stdatomic.h>
#include <sys/sysinfo.h>

#include "torture.h"

extern char** environ;
static atomic_int started;

static void* spinner(void* arg) {
  (void)arg;
  unsigned cpu, node;
  syscall(SYS_getcpu, &cpu, &node, NULL);
  atomic_fetch_add(&started, 1);
  for (;;) syscall(SYS_getcpu, &cpu, &node, NULL);
  return NULL;
}

static void do_exec(void) {
  while (atomic_load(&started) < 4) syscall(SYS_sched_yield);
  char* args[] = {"exec_threads", "--after-exec", NULL};
  syscall(SYS_execve, "/proc/self/exe", args, environ);
  sample_die("execve");
}

static void* exec_thread(void* arg) {
  (void)arg;
  do_exec();
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--after-exec") == 0) {
    struct sysinfo si;
    syscall(SYS_sysinfo, &si);
    syscall(SYS_exit_group, 7);
  }
  if (argc < 2 || (strcmp(argv[1], "leader") != 0 && strcmp(argv[1], "worker") != 0))
    torture_fail("usage: exec_threads leader|worker", 2);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_t th;
  for (int i = 0; i < 4; ++i)
    if (pthread_create(&th, &attr, spinner, NULL) != 0) torture_fail("pthread_create", 1);
  if (strcmp(argv[1], "leader") == 0) do_exec();
  if (pthread_create(&th, &attr, exec_thread, NULL) != 0) torture_fail("pthread_create", 1);
  for (;;) pause();
}
