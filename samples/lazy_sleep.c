// A program with a path its light probe never takes (issue 17's acceptance):
//   lazy_sleep          prints and exits (what a probe sees)
//   lazy_sleep sleep    also sleeps a millisecond through libc's usleep, which
//                       glibc makes as clock_nanosleep: a syscall the quick
//                       path never makes. Exits 1 if the sleep is refused.
//   lazy_sleep own      also makes getppid through its own `syscall`
//                       instruction with the number in eax (static completion
//                       finds it in this file, not through libc).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "quick";
  if (strcmp(mode, "sleep") == 0 && usleep(1000) != 0) {
    fprintf(stderr, "lazy_sleep: usleep: %s\n", strerror(errno));
    return 1;
  }
  if (strcmp(mode, "own") == 0) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(110L) : "rcx", "r11", "memory");  // getppid
    if (r < 0) return 1;
  }
  printf("lazy_sleep: ok (%s)\n", mode);
  return 0;
}
