#pragma once
// Seccomp user notification: run a child under a filter whose
// SECCOMP_RET_USER_NOTIF verdicts are answered by a handler in sctrace.
// Used by `verify` (answer denials with the profile's errno, and see them) and
// by the notify recording backend (answer CONTINUE, and record).
#include <mutex>
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
