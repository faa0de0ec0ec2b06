#pragma once
// Shared by every sample: raw syscall helpers and the "--danger=NAME" and
// "--extra-syscall" modes the end-to-end tests use.
//
//   --danger=NAME     after the sample's normal work, make syscall NAME with
//                     arguments that are harmless when it is NOT blocked, print
//                     "danger NAME: <errno name>" ("OK" when it succeeded) and
//                     exit 0 when the errno was EPERM, 3 otherwise.
//   --extra-syscall   make one extra harmless syscall (uname) after the work,
//                     so a test can show a profile without it denies it.
//
// Everything goes through raw syscall(2) so that libc does not add calls the
// test would have to know about (only strerrorname_np, which makes none).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323
#endif
#ifndef AF_PACKET
#define AF_PACKET 17
#endif

// Writes all of buf with raw write(2); returns 0 or -1.
static inline int sample_write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    long n = syscall(SYS_write, fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static inline int sample_puts(const char* s) { return sample_write_all(1, s, strlen(s)); }

static inline const char* sample_errno_name(int err) {
  if (err == 0) return "OK";
  const char* n = strerrorname_np(err);
  return n ? n : "UNKNOWN";
}

// Fails the sample with a message on stderr (exit 1).
static inline void sample_die(const char* what) {
  int err = errno;
  char buf[256];
  int n = snprintf(buf, sizeof buf, "sample: %s: %s\n", what, sample_errno_name(err));
  if (n > 0) sample_write_all(2, buf, (size_t)n);
  syscall(SYS_exit_group, 1);
  __builtin_unreachable();
}

// Each entry makes its syscall once with arguments that cannot do harm when
// the syscall is allowed, and returns the raw result (errno set on -1).
static inline long sample_danger_call(const char* name, int* known) {
  *known = 1;
  if (strcmp(name, "unshare") == 0) {
    // A new user namespace for a process that exits right after is harmless
    // (as root this succeeds; a multi-threaded caller gets EINVAL).
    return syscall(SYS_unshare, CLONE_NEWUSER);
  }
  if (strcmp(name, "ptrace") == 0) {
    // No process has pid 0: ESRCH when allowed.
    return syscall(SYS_ptrace, PTRACE_PEEKUSER, 0, 0, 0);
  }
  if (strcmp(name, "bpf") == 0) {
    // NULL attributes of size 0: EINVAL/EFAULT when allowed.
    return syscall(SYS_bpf, BPF_PROG_LOAD, NULL, 0);
  }
  if (strcmp(name, "keyctl") == 0) {
    // An operation number that does not exist: EOPNOTSUPP when allowed.
    return syscall(SYS_keyctl, 0x7fffffff, 0, 0, 0, 0);
  }
  if (strcmp(name, "io_uring_setup") == 0) {
    // Zero entries: EINVAL (or EFAULT) when allowed.
    return syscall(SYS_io_uring_setup, 0, NULL);
  }
  if (strcmp(name, "userfaultfd") == 0) {
    // UFFD_USER_MODE_ONLY (1) passes the permission check for anyone, the
    // other bits are invalid: EINVAL when allowed.
    long r = syscall(SYS_userfaultfd, 0x7fff0001);
    if (r >= 0) syscall(SYS_close, r);
    return r;
  }
  if (strcmp(name, "mount") == 0) {
    // NULL target: EFAULT when allowed.
    return syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
  }
  if (strcmp(name, "setns") == 0) {
    return syscall(SYS_setns, -1, 0);  // EBADF when allowed
  }
  if (strcmp(name, "socket_packet") == 0 || strcmp(name, "socket") == 0) {
    long r = syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
    if (r >= 0) syscall(SYS_close, r);
    return r;
  }
  *known = 0;
  return -1;
}

// Handles --danger=NAME and --extra-syscall; call after the sample's normal
// work. Returns only when neither was given.
static inline void sample_finish(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--extra-syscall") == 0) {
      struct utsname u;
      if (syscall(SYS_uname, &u) != 0) sample_die("uname");
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--danger=", 9) != 0) continue;
    const char* name = argv[i] + 9;
    int known = 0;
    errno = 0;
    long r = sample_danger_call(name, &known);
    int err = r < 0 ? errno : 0;
    if (!known) {
      char buf[128];
      int n = snprintf(buf, sizeof buf, "sample: unknown --danger=%s\n", name);
      if (n > 0) sample_write_all(2, buf, (size_t)n);
      syscall(SYS_exit_group, 2);
    }
    char buf[128];
    int n = snprintf(buf, sizeof buf, "danger %s: %s\n", name, sample_errno_name(err));
    if (n > 0) sample_write_all(1, buf, (size_t)n);
    syscall(SYS_exit_group, err == EPERM ? 0 : 3);
  }
}

// True when argv has exactly this flag.
static inline int sample_has_flag(int argc, char** argv, const char* flag) {
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], flag) == 0) return 1;
  return 0;
}
