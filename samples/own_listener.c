/* A workload with a seccomp listener of its own (tests/e2e/test_own_listener.py):
 * it installs a filter that notifies getppid, with SECCOMP_FILTER_FLAG_NEW_LISTENER,
 * forks a child that calls getppid, answers that one notification with 4242
 * and prints what it got. Under a notify tracer the kernel refuses the second
 * listener in the chain with EBUSY, and this exits 1. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  struct sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog fprog = {sizeof(prog) / sizeof(prog[0]), prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    printf("own_listener: no_new_privs: %s\n", strerror(errno));
    return 1;
  }
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  if (fd < 0) {
    printf("own_listener: seccomp: %s\n", strerror(errno));
    return 1;
  }
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    long got = syscall(SYS_getppid);
    printf("own_listener: child getppid returned %ld\n", got);
    return got == 4242 ? 0 : 1;
  }
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  if (ioctl((int)fd, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
    printf("own_listener: NOTIF_RECV: %s\n", strerror(errno));
    return 1;
  }
  printf("own_listener: notified nr=%d from the child: %s\n", req.data.nr, (pid_t)req.pid == child ? "yes" : "no");
  fflush(stdout);
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.val = 4242;
  if (ioctl((int)fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0) {
    printf("own_listener: NOTIF_SEND: %s\n", strerror(errno));
    return 1;
  }
  int status = 0;
  waitpid(child, &status, 0);
  printf("own_listener: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "OK" : "child failed");
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
