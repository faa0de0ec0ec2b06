// dynamic_basic: a dynamically linked workload that goes through ordinary
// libc calls (stdio, time, getpid), so the loader and libc start-up are part
// of what is traced.
#include <time.h>

#include "common.h"

int main(int argc, char** argv) {
  FILE* f = fopen("/dev/null", "r");
  if (!f) sample_die("fopen /dev/null");
  char buf[16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (getpid() <= 0) sample_die("getpid");
  printf("dynamic_basic: ok (read %zu bytes)\n", n);
  fflush(stdout);
  sample_finish(argc, argv);
  return 0;
}
