#pragma once
// The ptrace backend. make_ptrace_tracer() (tracer/tracer.h) launches and
// waits; PtraceEngine is the per-stop state machine it feeds with waitpid()
// results, exposed so tests can drive it with a fake SysIface.
#include <sys/types.h>

#include <bitset>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tracer/self_defence.h"
#include "tracer/sys_iface.h"
#include "tracer/tracer.h"

namespace sctrace {

// Options every tracee carries (inherited by auto-attached children).
// TRACESECCOMP makes SECCOMP_RET_TRACE stop the tracee instead of failing the
// syscall with ENOSYS, which is what happens when no tracer asked for them.
inline constexpr unsigned kPtraceOptions = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                                           PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
                                           PTRACE_O_EXITKILL;

// clone and clone3 on the arches a tracee can call them with (x86_64: also
// int 0x80 and x32), as the kernel numbers them in a stop.
struct CloneSyscall {
  uint32_t audit_arch;
  int32_t nr;
  bool clone3;
  unsigned flags_arg;  // clone's flags argument (1 on s390, 0 elsewhere)
};
std::vector<CloneSyscall> clone_syscalls();

// SECCOMP_RET_DATA of the watch filter's stops that only keep a clone's
// child traced (see with_clone_guard): not a syscall the profile refuses.
inline constexpr uint32_t kCloneGuardData = 0x5c7e;

class PtraceEngine {
 public:
  enum class Mode {
    // PTRACE_SYSCALL everywhere: an entry and an exit stop per syscall.
    two_stop,
    // Every syscall is answered SECCOMP_RET_TRACE by the child's filter and
    // tracees run with PTRACE_CONT: one PTRACE_EVENT_SECCOMP stop per
    // syscall. The exit stop is asked for (PTRACE_SYSCALL from the seccomp
    // stop) only while the result can still change the recording.
    one_stop,
    // LaunchSpec::watch_filter: only the syscalls it answers TRACE stop, and
    // are reported; no result is fetched (deny_errno sets it).
    watch,
  };

  // initial_pid has been seized and resumed by the caller (PTRACE_SYSCALL
  // for two_stop, PTRACE_CONT otherwise). Events are delivered from
  // initial_pid's first execve onward. deny_errno: watch mode only, each
  // reported syscall is skipped and fails with that errno.
  PtraceEngine(SysIface& sys, EventSink& sink, pid_t initial_pid, Mode mode = Mode::two_stop,
               std::optional<int> deny_errno = std::nullopt);

  // One result of waitpid(-1, &status, __WALL). Never throws on ESRCH.
  void handle(pid_t tid, int wait_status);
  // No task is known any more (every tracee reported its death).
  bool done() const { return tasks_.empty(); }
  // Tracees that will never report again (waitpid said ECHILD): their pending
  // syscalls are delivered without a result and they are forgotten.
  void finish();

  // LaunchSpec::ends_with_first_process: once initial_pid has died, every
  // process left is SIGKILLed and nothing more is reported (its death is
  // the workload's end). Reports that came with it from one waitpid batch
  // should be handled after it: handle_batch does that.
  void set_ends_with_initial(bool on) { ends_with_initial_ = on; }
  // LaunchSpec::watch_lets_run (watch mode): a stop on a call it says the
  // profile lets run is only for refuse_self_attack, and is not reported.
  void set_watch_lets_run(std::function<bool(const SyscallEvent&)> f) { watch_lets_run_ = std::move(f); }
  // Several waitpid results collected together.
  void handle_batch(std::vector<std::pair<pid_t, int>>& batch);

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
  // A syscall that had to be denied could not be (no PTRACE_SET_SYSCALL_INFO
  // and no register fallback for its arch): everything was killed instead.
  bool deny_failed() const { return deny_failed_; }
  // A CLONE_UNTRACED could not be taken out of a clone (no
  // PTRACE_SET_SYSCALL_INFO and no register fallback): everything was killed.
  bool untraced_failed() const { return untraced_failed_; }

 private:
  struct Task {
    pid_t tgid = 0;
    bool pending = false;  // ev holds a syscall whose exit stop is awaited
    // one_stop: ev is the syscall the task is in now (every syscall stops,
    // so the last seccomp stop is the current syscall at a fork event).
    bool ev_current = false;
    // The syscall was skipped (a watched denial, clone3 with CLONE_UNTRACED):
    // the exit stop makes it fail with this errno (0: nothing to set).
    int errno_at_exit = 0;
    SyscallEvent ev;
  };

  Task* find(pid_t tid);
  Task& add_task(pid_t tid, pid_t tgid);
  void erase(pid_t tid);
  void emit_pending(Task& t);
  // Events reach the sink between the workload's first execve and the end
  // of its life.
  bool reporting() const { return started_ && !life_over_; }
  void end_life();
  void on_death(pid_t tid, int status);
  void on_stop(pid_t tid, Task& t, int status);
  void on_syscall_stop(pid_t tid, Task& t);
  void two_stop_info(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  void one_stop_info(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  void watch_info(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  void take_entry(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  void deny(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  // At an entry or seccomp stop: skip the syscall and make it fail with err.
  // False when neither PTRACE_SET_SYSCALL_INFO nor the registers could.
  bool skip(pid_t tid, Task& t, const __ptrace_syscall_info& info, int err);
  // At an exit stop: sets the answer skip() left, if any (true then).
  bool answer_at_exit(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  bool result_wanted(uint32_t audit_arch, int32_t nr) const;
  void note_success(uint32_t audit_arch, int32_t nr);
  void on_new_task(pid_t parent_tid, Task& parent, int event);
  void on_exec(pid_t tid);
  pid_t tgid_of_clone(pid_t parent_tid, Task& parent, pid_t new_tid);
  void keep_child_traced(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  // At an entry or seccomp stop: a call aimed at the tracer itself is skipped
  // with EPERM and reported to the sink (tracer/self_defence.h).
  void refuse_self_attack(pid_t tid, Task& t, const __ptrace_syscall_info& info);
  void resume(pid_t tid, int sig = 0);

  SysIface& sys_;
  EventSink& sink_;
  pid_t initial_pid_;
  Mode mode_;
  std::optional<int> deny_errno_;
  uint32_t native_arch_;  // AUDIT_ARCH_* of sctrace itself, which runs the launcher
  std::unordered_map<pid_t, Task> tasks_;
  // Tids whose first report (a stop or their death) came before their
  // creator's fork/clone event, so that event must not register them again.
  std::unordered_set<pid_t> seen_early_;
  // one_stop: (arch, nr) seen succeeding at least once. From then on the
  // recording's decisions about that syscall (SyscallRecord::only_enosys,
  // advice/evidence.h's succeeded()) cannot change, so its exit stop is
  // no longer asked for. Native numbers are a flat table, the rest a set.
  std::vector<bool> ok_native_;
  std::unordered_set<uint64_t> ok_other_;
  // Most tracees make many syscalls in a row: skip the hash lookup then.
  pid_t last_tid_ = 0;
  Task* last_task_ = nullptr;
  std::optional<int> initial_status_;
  bool started_ = false;
  std::function<bool(const SyscallEvent&)> watch_lets_run_;
  bool exec_done_ = false;
  bool killing_ = false;
  bool ends_with_initial_ = false;
  bool life_over_ = false;  // ends_with_initial_ and initial_pid has died
  bool deny_failed_ = false;
  bool untraced_failed_ = false;
  std::vector<CloneSyscall> clone_syscalls_;
  // The clone numbers of every arch, modulo its size (x32's carry a high
  // bit): a syscall whose slot is false is none of them.
  std::bitset<1024> clone_hint_;
  bool set_info_works_ = true;  // PTRACE_SET_SYSCALL_INFO did not say EIO yet
  SelfDefence self_defence_;
};

}  // namespace sctrace
