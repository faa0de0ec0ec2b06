#include "tracer/notify.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"

// Linux 6.6: wake the target on the CPU of the supervisor that answers,
// which halves the cost of a round trip. Older uapi headers lack it.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace sctrace {

namespace {

using Clock = std::chrono::steady_clock;

// How long the listener is still served after the first process exited, for
// processes it left behind (see run_with_notify).
constexpr std::chrono::milliseconds kDrainGrace{200};
// poll() wakes up at least this often, so that an interrupt noted on another
// thread (no EINTR here) is still acted on.
constexpr int kMaxPollMs = 100;

long sys_seccomp(unsigned op, unsigned flags, void* args) { return ::syscall(SYS_seccomp, op, flags, args); }

int pidfd_signal(int pidfd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

NotifyCaps probe_in_child() {
  NotifyCaps caps;
  pid_t pid = ::fork();
  if (pid < 0) return caps;
  if (pid == 0) {
    // Child: raw syscalls only. A filter that allows everything is enough to
    // get a listener; the ioctls below then ask the kernel what it knows.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(1);
    sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    sock_fprog prog{1, allow};
    long fd = sys_seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0) ::_exit(1);
    int code = 0x10;
    // CONTINUE on an id that does not exist: ENOENT when the flag is known,
    // EINVAL when the kernel rejects the flag before looking the id up.
    seccomp_notif_resp resp{};
    resp.id = ~0ULL;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (::ioctl(static_cast<int>(fd), SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno == ENOENT) code |= 1;
    if (set_sync_wakeup(static_cast<int>(fd))) code |= 2;
    ::_exit(code);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return caps;
  }
  if (!WIFEXITED(st) || (WEXITSTATUS(st) & 0x10) == 0) return caps;
  caps.user_notif = true;
  caps.flag_continue = (WEXITSTATUS(st) & 1) != 0;
  caps.sync_wakeup = (WEXITSTATUS(st) & 2) != 0;
  return caps;
}

ExitStatus exit_status_from(int st) {
  ExitStatus es;
  if (WIFSIGNALED(st)) {
    es.signaled = true;
    es.signal = WTERMSIG(st);
    es.core_dumped = WCOREDUMP(st);
  } else {
    es.code = WEXITSTATUS(st);
  }
  return es;
}

}  // namespace

bool set_sync_wakeup(int listener) {
  uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
  return ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0;
}

NotifyResponder::NotifyResponder(int listener, NotifyHandler& handler) : listener_(listener), handler_(&handler) {
  seccomp_notif_sizes sizes{};
  if (sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0)
    fail_errno(ErrorKind::runtime, errno, "SECCOMP_GET_NOTIF_SIZES");
  req_.resize(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  resp_.resize(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
}

pid_t NotifyResponder::tgid_of(pid_t tid) {
  auto it = tgids_.find(tid);
  if (it != tgids_.end()) return it->second;
  pid_t tgid = tid;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
  if (FILE* f = std::fopen(path, "re")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      int v = 0;
      if (std::sscanf(line, "Tgid: %d", &v) == 1) {
        tgid = v;
        break;
      }
    }
    std::fclose(f);
  }
  tgids_.emplace(tid, tgid);
  return tgid;
}

void NotifyResponder::serve_one() {
  // The kernel insists on a zeroed request buffer (5.5+).
  std::fill(req_.begin(), req_.end(), 0);
  if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, req_.data()) < 0) {
    if (errno == ENOENT || errno == EINTR) return;
    fail_errno(ErrorKind::runtime, errno, "SECCOMP_IOCTL_NOTIF_RECV");
  }
  seccomp_notif req;
  std::memcpy(&req, req_.data(), sizeof req);

  // Only registers: the notification's arguments are never dereferenced.
  SyscallEvent ev;
  ev.tid = static_cast<pid_t>(req.pid);
  ev.pid = tgid_of(ev.tid);
  ev.audit_arch = req.data.arch;
  ev.nr = req.data.nr;
  for (size_t i = 0; i < ev.args.size(); ++i) ev.args[i] = req.data.args[i];
  ev.ip = req.data.instruction_pointer;
  const NotifyDecision d = handler_->on_notify(ev);

  seccomp_notif_resp resp{};
  resp.id = req.id;
  if (d.allow) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else {
    resp.error = -(d.error > 0 ? d.error : EPERM);
  }
  std::fill(resp_.begin(), resp_.end(), 0);
  std::memcpy(resp_.data(), &resp, sizeof resp);
  for (;;) {
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, resp_.data()) == 0) return;
    if (errno == EINTR) continue;
    if (errno == ENOENT) return;  // the task died while we decided
    fail_errno(ErrorKind::runtime, errno, "SECCOMP_IOCTL_NOTIF_SEND");
  }
}


NotifyCaps probe_notify_caps() {
  static const NotifyCaps caps = probe_in_child();
  return caps;
}

// Processes that outlive the first one (daemons, double forks) are not
// killed: nothing here knows their pids without racing pid reuse. They are
// served until every task holding the filter has gone (the listener reports
// POLLHUP) or for kDrainGrace after the first process exited. Once the
// listener is closed, the kernel fails their notified syscalls with ENOSYS,
// so they cannot run a denied syscall unsupervised.
ExitStatus run_with_notify(const LaunchSpec& spec, NotifyHandler& handler) {
  if (spec.seccomp_filter.empty()) fail(ErrorKind::runtime, "run_with_notify: no seccomp filter to install");
  const NotifyCaps caps = probe_notify_caps();
  if (!caps.user_notif)
    fail(ErrorKind::runtime, "seccomp user notification is not available (needs Linux 5.0+ and seccomp allowed)");
  if (!caps.flag_continue)
    fail(ErrorKind::runtime, "seccomp user notification cannot let syscalls continue (needs Linux 5.5+)");
  const int base_interrupts = interrupt_count();
  ChildOptions opts;
  opts.filter = &spec.seccomp_filter;
  opts.new_listener = true;
  opts.no_new_privs = spec.no_new_privs;
  ChildProcess child = ChildProcess::spawn(spec.argv, opts);
  UniqueFd listener = child.take_listener();
  if (caps.sync_wakeup) {
    set_sync_wakeup(listener.get());
  }

  NotifyResponder sup(listener.get(), handler);
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (spec.timeout.count() > 0) deadline = start + spec.timeout;
  bool killed = false;
  bool timed_out = false;
  int interrupts_acted = 0;
  std::optional<int> wait_status;
  Clock::time_point drain_until{};

  for (;;) {
    const auto now = Clock::now();
    const int interrupts = interrupt_count() - base_interrupts;
    if (!wait_status) {
      if (interrupts >= 1 && interrupts_acted < 1) {
        pidfd_signal(child.pidfd(), last_interrupt_signal());
        interrupts_acted = 1;
      }
      if (interrupts >= 2 && interrupts_acted < 2) {
        pidfd_signal(child.pidfd(), SIGKILL);
        interrupts_acted = 2;
        killed = true;
      }
      if (deadline && now >= *deadline && !killed) {
        pidfd_signal(child.pidfd(), SIGKILL);
        killed = true;
        timed_out = true;
      }
    } else if (now >= drain_until || interrupts > interrupts_acted) {
      break;
    }

    int timeout_ms = kMaxPollMs;
    auto clamp_to = [&](Clock::time_point t) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(ms, 0, timeout_ms));
    };
    if (wait_status) clamp_to(drain_until);
    else if (deadline && !killed) clamp_to(*deadline);

    pollfd fds[2] = {{listener.get(), POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
    int r = ::poll(fds, wait_status ? 1 : 2, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::runtime, errno, "poll");
    }
    if (fds[0].revents & POLLIN) sup.serve_one();
    if (!wait_status && (fds[1].revents & POLLIN)) {
      wait_status = child.wait();
      drain_until = Clock::now() + kDrainGrace;
      continue;  // poll again: POLLHUP only shows once the child is reaped
    }
    // No task holds the filter any more.
    if (wait_status && (fds[0].revents & (POLLHUP | POLLERR)) && !(fds[0].revents & POLLIN)) break;
  }

  // The error pipe is close-on-exec: an errno there means execve failed.
  if (int e = child.setup_errno(); e != 0)
    fail(e == ENOENT ? ErrorKind::not_found : ErrorKind::not_exec, "{}: {}", spec.argv.at(0), std::strerror(e));
  ExitStatus es = exit_status_from(*wait_status);
  es.timed_out = timed_out;
  return es;
}

}  // namespace sctrace
