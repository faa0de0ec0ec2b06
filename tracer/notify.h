#pragma once
// Seccomp user notification: run a child under a filter whose
// SECCOMP_RET_USER_NOTIF verdicts are answered by a handler in sctrace.
// Used by `verify` (answer denials with the profile's errno, and see them) and
// by the notify recording backend (answer CONTINUE, and record).
#include <unordered_map>
#include <vector>

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

// Receives and answers notifications on one listener fd: request and response
// buffers sized for this kernel, thread-group ids read once per tid from /proc
// (the task is blocked in its syscall while we look, so it cannot go away; a
// tid reused later keeps the first answer, which takes pid_max task creations
// within one run). Shared by run_with_notify and the OCI seccomp agent.
class NotifyResponder {
 public:
  NotifyResponder(int listener, NotifyHandler& handler);
  // Receives and answers one notification. A task that died (ENOENT) or an
  // interrupted ioctl is not an error; anything else throws Error(runtime).
  void serve_one();
  int fd() const { return listener_; }

 private:
  pid_t tgid_of(pid_t tid);
  int listener_;
  NotifyHandler* handler_;
  std::vector<unsigned char> req_;
  std::vector<unsigned char> resp_;
  std::unordered_map<pid_t, pid_t> tgids_;
};

// Runs spec.argv with spec.seccomp_filter installed in the child right before
// execve (the listener fd is taken from the child with pidfd_getfd, so no
// notified syscall stands in the way). Returns when the first process exits
// and every notification has been answered. Honours spec.timeout and
// tracer/interrupt.h like the tracers do.
ExitStatus run_with_notify(const LaunchSpec& spec, NotifyHandler& handler);

}  // namespace sctrace
