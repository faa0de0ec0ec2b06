#pragma once
// The kernel calls the ptrace state machine makes about tracees, behind a seam
// so tests can replay stop sequences that are hard to provoke for real (a new
// thread's first stop arriving before its creator's clone event, a thread that
// execs while the leader is a zombie, ...). Waiting itself is not here: the
// engine is fed one waitpid() result at a time.
#include <sys/ptrace.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace sctrace {

class SysIface {
 public:
  virtual ~SysIface() = default;
  // All return 0 or an errno value; ESRCH means the task is gone (or no
  // longer stopped because it was SIGKILLed) and is never an error.

  // PTRACE_SYSCALL / PTRACE_CONT / PTRACE_LISTEN with a signal to inject (0
  // for none).
  virtual int resume(int request, pid_t tid, int sig) = 0;
  virtual int syscall_info(pid_t tid, __ptrace_syscall_info& out) = 0;
  // PTRACE_SET_SYSCALL_INFO (Linux 6.16+; EIO before): `in.op` must be the
  // kind of stop the tracee is in.
  virtual int set_syscall_info(pid_t tid, const __ptrace_syscall_info& in) = 0;
  // At a seccomp or entry stop, without PTRACE_SET_SYSCALL_INFO: skip the
  // syscall and make it return rval, through the registers (at an exit stop:
  // only the return value counts). ENOSYS where sctrace has no
  // register layout for the arch (anything but x86_64).
  virtual int skip_syscall(pid_t tid, int64_t rval) = 0;
  // At an entry or seccomp stop, without PTRACE_SET_SYSCALL_INFO: set
  // argument `index` of the syscall through the registers. ENOSYS where
  // sctrace has no register layout for the arch (anything but x86).
  virtual int set_syscall_arg(pid_t tid, uint32_t audit_arch, unsigned index, uint64_t value) = 0;
  virtual int event_msg(pid_t tid, unsigned long& out) = 0;
  // PTRACE_SETOPTIONS on a stopped tracee; tasks it creates later inherit them.
  virtual int set_options(pid_t tid, unsigned options) = 0;
  virtual int kill(pid_t pid, int sig) = 0;
  // 8 bytes of the tracee's memory (the flags word of a clone3 clone_args).
  virtual int read_u64(pid_t tid, uint64_t addr, uint64_t& out) = 0;
  // Thread-group id from /proc/<tid>/status, 0 when the task is gone. Only
  // used on the rare paths where the creating syscall's arguments don't say.
  virtual pid_t tgid_of(pid_t tid) = 0;
  // readlink(/proc/<pid>/exe), empty when unreadable.
  virtual std::string exe_of(pid_t pid) = 0;
};

// The real kernel.
SysIface& real_sys();

}  // namespace sctrace
