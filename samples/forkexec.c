// forkexec: the parent forks (glibc fork: clone) and vforks (the vfork
// syscall); each child execs static_basic, found next to this binary through
// /proc/self/exe, and the parent waits for both. Shows that children and the
// programs they exec are traced.
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>

#include "common.h"

static void wait_ok(pid_t pid, const char* what) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) sample_die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = 0;
    sample_die(what);
  }
}

int main(int argc, char** argv) {
  static char self[PATH_MAX];
  long n = syscall(SYS_readlink, "/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) sample_die("readlink /proc/self/exe");
  self[n] = '\0';
  static char child[PATH_MAX + 32];
  snprintf(child, sizeof child, "%s/static_basic", dirname(self));
  char* child_argv[] = {child, NULL};
  char* child_env[] = {NULL};

  int only_fork = sample_has_flag(argc, argv, "--fork-only");
  int only_vfork = sample_has_flag(argc, argv, "--vfork-only");

  if (!only_vfork) {
    pid_t pid = fork();
    if (pid < 0) sample_die("fork");
    if (pid == 0) {
      execve(child, child_argv, child_env);
      _exit(127);
    }
    wait_ok(pid, "forked child failed");
  }
  if (!only_fork) {
    // glibc's vfork() is the vfork syscall itself on x86-64; the child may
    // only exec or _exit.
    pid_t pid = vfork();
    if (pid < 0) sample_die("vfork");
    if (pid == 0) {
      execve(child, child_argv, child_env);
      _exit(127);
    }
    wait_ok(pid, "vforked child failed");
  }
  if (sample_puts("forkexec: ok\n") != 0) sample_die("write");
  sample_finish(argc, argv);
  return 0;
}
