#pragma once
// Launching the workload: PATH resolution like a shell, a start barrier, the
// seccomp filter installed right before execve, and ownership of the child
// (the destructor kills and reaps a child that was not reaped).
#include <linux/filter.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "core/unique_fd.h"

namespace sctrace {

// Resolves argv0 like a shell (names with a '/' are used as they are).
// Throws Error(not_found) / Error(not_exec) with a one-line message.
std::string resolve_command(const std::string& argv0);

struct ChildOptions {
  // The child blocks before doing anything else until release() is called,
  // so the parent can attach (PTRACE_SEIZE) first.
  bool wait_for_release = false;
  const std::vector<sock_filter>* filter = nullptr;  // installed right before execve
  // A second program installed after `filter` (and after the listener
  // handover), so it is the last thing before execve: the ptrace backend's
  // SECCOMP_RET_TRACE filter. The launcher makes no syscall it could answer
  // except execve (and, when execve fails, the error report).
  const std::vector<sock_filter>* trace_filter = nullptr;
  bool no_new_privs = false;
  // Install the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER; take_listener()
  // then fetches the listener fd from the child with pidfd_getfd.
  bool new_listener = false;
};

class ChildProcess {
 public:
  // Throws Error on failure to resolve the command or to fork.
  static ChildProcess spawn(const std::vector<std::string>& argv, const ChildOptions& opts);

  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  void release();  // lets a wait_for_release child go on
  // Blocks until the child has installed its filter, then returns our copy of
  // its listener fd. Throws Error(runtime) when the child could not install it.
  UniqueFd take_listener();
  // Call once the pid has been reaped by someone (the tracer's waitpid loop).
  void mark_reaped() { reaped_ = true; }
  bool reaped() const { return reaped_; }
  // waitpid for this child; returns the wait status.
  int wait();
  // pidfd_send_signal: reaches this child even if its pid was reaped and
  // reused meanwhile (then it fails with ESRCH). 0, or -1 with errno set.
  int signal(int sig) const;
  // The errno of a failed execve/filter install in the child, 0 if none (read
  // after the child exited).
  int setup_errno();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd release_w_;  // write end of the start barrier
  UniqueFd info_r_;     // child -> parent: predicted listener fd number
  UniqueFd error_r_;    // child -> parent: errno of a failed setup/exec (CLOEXEC)
  UniqueFd ack_w_;      // parent -> child: listener taken, go on to execve
  bool reaped_ = false;
};

}  // namespace sctrace
