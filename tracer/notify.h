#pragma once
// Seccomp user notification: run a child under a filter whose
// SECCOMP_RET_USER_NOTIF verdicts are answered by a handler in sctrace.
// Used by `verify` (answer denials with the profile's errno, and see them) and
// by the notify recording backend (answer CONTINUE, and record).
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/unique_fd.h"

#include "tracer/tracer.h"

namespace sctrace {

struct NotifyDecision {
  bool allow = false;  // SECCOMP_USER_NOTIF_FLAG_CONTINUE
  int error = 0;       // when !allow: the syscall fails with -error (error > 0)
};

class NotifyHandler {
 public:
  virtual ~NotifyHandler() = default;
  // ev.result is never set; ev.ip is the instruction pointer from seccomp_data.
  virtual NotifyDecision on_notify(const SyscallEvent& ev) = 0;
};

struct NotifyCaps {
  bool user_notif = false;       // SECCOMP_FILTER_FLAG_NEW_LISTENER works
  bool flag_continue = false;    // SECCOMP_USER_NOTIF_FLAG_CONTINUE (5.5+)
  bool sync_wakeup = false;      // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6+)
};
NotifyCaps probe_notify_caps();

// ev (a native or compat syscall as notified) is seccomp(SECCOMP_SET_MODE_FILTER,
// flags with SECCOMP_FILTER_FLAG_NEW_LISTENER, ...): the workload asks for a
// listener of its own. The kernel allows one listener per filter chain, and
// the notify backends' filter is already in the workload's chain, so the call
// fails with EBUSY (prctl(PR_SET_SECCOMP) cannot ask for a listener). The
// operation and flags are register arguments: nothing is read from memory.
bool asks_for_own_listener(const SyscallEvent& ev);

// Asks the kernel (6.6+) to run the notifying task on the CPU of the
// supervisor that answers; false where the kernel does not have it.
bool set_sync_wakeup(int listener);

// The processes that made notified syscalls, as pidfds opened while the
// notifying task was blocked in the kernel, so the pid cannot have been
// reused: every process of the workload, daemons included, can be signalled
// without racing pid reuse. Shared by the supervisors of one listener.
class ProcessTracker {
 public:
  void note(pid_t tgid);
  // Signals every tracked process that has not exited; returns how many.
  // Their pids go to `signalled` when given.
  size_t signal_all(int sig, std::unordered_set<pid_t>* signalled = nullptr);

 private:
  void sweep_locked();
  std::mutex mutex_;
  std::unordered_map<pid_t, UniqueFd> pidfds_;
};

// What the notifications of a workload tell about its processes, for the
// backends that are not their parent (the OCI seccomp agent) or hear of them
// only through notifications (the local notify tracer): which processes
// there are, the programs they exec, and when they end. Not thread-safe: one
// supervisor thread (or a handler that serializes) calls it.
//
// - A process is known from its first notification (its thread-group id);
//   one that never makes a notified syscall stays unknown.
// - Execs: the execve/execveat notification comes before the kernel decides
//   whether the exec succeeds, so /proc/PID/exe is noted then and read again
//   at the process's next notification (a successful exec is always followed
//   by one: the loader's or exit_group's, unless the filter allows those);
//   another executable there is a successful exec, reported with that path
//   as /proc shows it (inside a container: the container's own path). Not
//   seen: an exec of the same file again (unless report_next_exec), and an
//   exec after which the process makes no notified syscall.
// - Ends (track_exits): a pidfd is opened at a process's first notification,
//   while the task is blocked in the kernel, so the pid cannot have been
//   reused; it turns readable when the process exits, and collect_exits()
//   reports it. Without track_exits, or where no pidfd could be opened, the
//   end is reported by finish(). The exit status is not known (sctrace is not
//   the parent): 0 is reported. A pid reused between an exit and the next
//   collect_exits() is taken for the old process until then.
class ProcessWatch {
 public:
  // sink may be null: processes are then only counted.
  ProcessWatch(EventSink* sink, bool track_exits);
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // With every notification, before it is answered.
  void on_notification(const SyscallEvent& ev);
  // The next exec of pid is reported even when it runs the same file (the
  // local launcher's execve replaces sctrace's own image).
  void report_next_exec(pid_t pid) { force_exec_pid_ = pid; }
  // Readable (poll) when a watched process has exited; -1 without track_exits.
  int exits_fd() const { return epoll_.get(); }
  // Reports (on_exit) the processes whose pidfd turned readable.
  void collect_exits();
  // Reports every process not reported yet as gone, in the order first seen.
  void finish();
  // How many processes were seen.
  size_t processes() const { return seen_; }

 private:
  bool is_exec(const SyscallEvent& ev);
  void gone(pid_t pid);

  EventSink* sink_;
  UniqueFd epoll_;
  std::unordered_map<pid_t, UniqueFd> alive_;  // the pidfd, or none
  std::vector<pid_t> order_;
  std::unordered_map<pid_t, std::string> exec_pending_;  // exe before the exec
  std::unordered_map<uint64_t, bool> exec_nrs_;          // (arch, nr) -> execve/execveat
  pid_t force_exec_pid_ = 0;
  size_t seen_ = 0;
};

// The executable of a process as /proc/PID/exe names it; empty when it
// cannot be read.
std::string exe_path_of(pid_t pid);

// Receives and answers notifications on one listener fd: request and response
// buffers sized for this kernel, thread-group ids read once per tid from /proc
// (the task is blocked in its syscall while we look, so it cannot go away; a
// tid reused later keeps the first answer, which takes pid_max task creations
// within one run). Shared by run_with_notify and the OCI seccomp agent.
class NotifyResponder {
 public:
  NotifyResponder(int listener, NotifyHandler& handler);
  // Receives and answers one notification: receive() then answer(). A task
  // that died (ENOENT: killed while it waited, before or after we received
  // its notification) or an interrupted ioctl is not an error; anything else
  // throws Error(runtime). Returns whether a notification was answered.
  bool serve_one();
  // The two halves, for supervisors that let another thread receive while
  // this one answers. receive() blocks until a notification is pending (it
  // ignores O_NONBLOCK: poll first) and returns false when there was none
  // after all (ENOENT, EINTR); answer() calls the handler for the received
  // notification and sends its decision.
  bool receive();
  bool answer();
  int fd() const { return listener_; }
  // Every new thread group seen is noted there (nullptr: not tracked).
  void track(ProcessTracker* tracker) { tracker_ = tracker; }

 private:
  pid_t tgid_of(pid_t tid);
  int listener_;
  NotifyHandler* handler_;
  std::vector<unsigned char> req_;
  std::vector<unsigned char> resp_;
  std::unordered_map<pid_t, pid_t> tgids_;
  ProcessTracker* tracker_ = nullptr;
};

// How many threads answer one listener in run_with_notify. Measured on the
// 8-thread loop (samples/mt_loop, bench/README.md): see kDefaultSupervisors
// in notify.cc. $SCTRACE_NOTIFY_THREADS (1..64) overrides it, for measuring.
int notify_supervisor_threads();
// False when $SCTRACE_NOTIFY_SYNC_WAKEUP=0 (to measure notify without
// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on a kernel that has it).
bool notify_sync_wakeup_wanted();

// Runs spec.argv with spec.seccomp_filter installed in the child right before
// execve (the listener fd is taken from the child with pidfd_getfd, so no
// notified syscall stands in the way). Returns once every process of the
// workload has exited (no task holds the filter any more), like the tracers. Honours spec.timeout and
// tracer/interrupt.h like the tracers do. The handler is called from
// supervisor threads, never two at a time.
ExitStatus run_with_notify(const LaunchSpec& spec, NotifyHandler& handler);

}  // namespace sctrace
