#pragma once
// The ptrace backend. make_ptrace_tracer() (tracer/tracer.h) launches and
// waits; PtraceEngine is the per-stop state machine it feeds with waitpid()
// results, exposed so tests can drive it with a fake SysIface.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "tracer/sys_iface.h"
#include "tracer/tracer.h"

namespace sctrace {

// Options every tracee carries (inherited by auto-attached children).
// TRACESECCOMP makes SECCOMP_RET_TRACE stop the tracee instead of failing the
// syscall with ENOSYS, which is what happens when no tracer asked for them.
inline constexpr unsigned kPtraceOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                           PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
                                           PTRACE_O_EXITKILL;

class PtraceEngine {
 public:
  // initial_pid has been seized and resumed with PTRACE_SYSCALL by the caller.
  // Events are delivered from initial_pid's first execve entry onward.
  PtraceEngine(SysIface& sys, EventSink& sink, pid_t initial_pid);

  // One result of waitpid(-1, &status, __WALL). Never throws on ESRCH.
  void handle(pid_t tid, int wait_status);
  // No task is known any more (every tracee reported its death).
  bool done() const { return tasks_.empty(); }
  // Tracees that will never report again (waitpid said ECHILD): their pending
  // syscalls are delivered without a result and they are forgotten.
  void finish();

  // SIGKILL every traced process, and every process or thread that shows up
  // from now on.
  void kill_all();
  // sig to the first process, or, once it is gone, to every traced process.
  void signal_workload(int sig);

  // Wait status of initial_pid, once it has been seen to die.
  std::optional<int> initial_status() const { return initial_status_; }
  bool started() const { return started_; }      // the workload's first execve was entered
  bool exec_done() const { return exec_done_; }  // initial_pid's first execve succeeded
  size_t task_count() const { return tasks_.size(); }

 private:
  struct Task {
    pid_t tgid = 0;
    bool pending = false;  // ev holds a syscall entry whose exit was not seen yet
    SyscallEvent ev;
  };

  Task* find(pid_t tid);
  Task& add_task(pid_t tid, pid_t tgid);
  void erase(pid_t tid);
  void emit_pending(Task& t);
  void on_death(pid_t tid, int status);
  void on_stop(pid_t tid, Task& t, int status);
  void on_syscall_stop(pid_t tid, Task& t);
  void on_new_task(pid_t parent_tid, Task& parent, int event);
  void on_exec(pid_t tid);
  pid_t tgid_of_clone(pid_t parent_tid, Task& parent, pid_t new_tid);
  void resume(pid_t tid, int sig = 0);

  SysIface& sys_;
  EventSink& sink_;
  pid_t initial_pid_;
  uint32_t native_arch_;  // AUDIT_ARCH_* of sctrace itself, which runs the launcher
  std::unordered_map<pid_t, Task> tasks_;
  // Tids whose first report (a stop or their death) came before their
  // creator's fork/clone event, so that event must not register them again.
  std::unordered_set<pid_t> seen_early_;
  // Most tracees make many syscalls in a row: skip the hash lookup then.
  pid_t last_tid_ = 0;
  Task* last_task_ = nullptr;
  std::optional<int> initial_status_;
  bool started_ = false;
  bool exec_done_ = false;
  bool killing_ = false;
};

}  // namespace sctrace
