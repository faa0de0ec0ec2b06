#include "tracer/notify.h"

#include <dirent.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/arch.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/guardian.h"
#include "tracer/interrupt.h"
#include "tracer/proc_stat.h"

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

// poll() wakes up at least this often, so that an interrupt noted on another
// thread (no EINTR here) is still acted on.
constexpr int kMaxPollMs = 100;
// Supervisor threads per listener. Measured on this 2-vCPU VM (kernel 6.18,
// sync wake-up, other builds running; medians of 3, seconds):
//   samples/loop 100000 (1 thread):   1 supervisor 2.5, 2: 6.0, 4: 4.9
//   samples/mt_loop 20000 (8 threads): 1 supervisor 3.7, 2: 3.3, 4: 3.4
//   mt_loop 2000 --threads 64:          1 supervisor 2.7, 2: 2.7, 4: 2.8
// More supervisors do not help the 8-thread loop beyond the noise and make a
// single-threaded workload twice as slow: with sync wake-up the answering
// supervisor and the woken task share a CPU, and the next notification then
// wakes a different (waiting) supervisor on the other CPU, which is the
// cross-CPU wake-up sync wake-up exists to avoid. So one.
constexpr int kDefaultSupervisors = 1;

long sys_seccomp(unsigned op, unsigned flags, void* args) { return ::syscall(SYS_seccomp, op, flags, args); }

int pidfd_signal(int pidfd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

// The probe child: raw syscalls only, and it never returns. A filter that
// allows everything is enough to get a listener; the ioctls then ask the
// kernel what it knows. Exit code: 0x10 listener, |1 FLAG_CONTINUE, |2 sync
// wake-up. Not instrumented by the sanitizers: ASan would see _exit called on
// a stack it does not know and print a warning into sctrace's stderr.
__attribute__((no_sanitize("address", "undefined"))) int probe_child(void*) {
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
  // set_sync_wakeup() inlined: nothing instrumented runs on this stack.
  uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
  if (::ioctl(static_cast<int>(fd), SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0) code |= 2;
  ::_exit(code);
}

NotifyCaps probe_in_child() {
  NotifyCaps caps;
  // A filter cannot be taken back, so the probe runs in a child. It shares
  // sctrace's memory and sctrace waits until it exits (CLONE_VM |
  // CLONE_VFORK, like posix_spawn): no page tables are copied, which a fork
  // of sctrace would cost on every start (~0.3 ms). The filter stays the
  // child's: seccomp state is per task.
  constexpr size_t kStack = 64 * 1024;
  auto stack = std::make_unique<char[]>(kStack);
  pid_t pid = ::clone(probe_child, stack.get() + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, nullptr);
  if (pid < 0) return caps;
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
  if (tracker_ != nullptr) tracker_->note(tgid);
  return tgid;
}

void ProcessTracker::note(pid_t tgid) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pidfds_.find(tgid);
  if (it != pidfds_.end()) {
    // A pid seen before: still the same process unless that one exited.
    pollfd p{it->second.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) return;
    pidfds_.erase(it);
  }
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, tgid, 0)));
  if (!fd) return;  // already gone (ESRCH): nothing to signal
  if (pidfds_.size() >= 1024) sweep_locked();
  pidfds_.emplace(tgid, std::move(fd));
}

void ProcessTracker::sweep_locked() {
  for (auto it = pidfds_.begin(); it != pidfds_.end();) {
    pollfd p{it->second.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) it = pidfds_.erase(it);
    else ++it;
  }
}

size_t ProcessTracker::signal_all(int sig, std::unordered_set<pid_t>* signalled) {
  std::lock_guard<std::mutex> lock(mutex_);
  sweep_locked();
  size_t n = 0;
  for (auto& [pid, fd] : pidfds_)
    if (::syscall(SYS_pidfd_send_signal, fd.get(), sig, nullptr, 0) == 0) {
      ++n;
      if (signalled) signalled->insert(pid);
    }
  return n;
}

bool NotifyResponder::receive() {
  // The kernel insists on a zeroed request buffer (5.5+).
  std::fill(req_.begin(), req_.end(), 0);
  if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, req_.data()) < 0) {
    // ENOENT: the task was killed between the wake-up and this receive, or
    // (6.6+) no task holds the filter any more.
    if (errno == ENOENT || errno == EINTR) return false;
    fail_errno(ErrorKind::runtime, errno, "SECCOMP_IOCTL_NOTIF_RECV");
  }
  return true;
}

bool NotifyResponder::answer() {
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
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, resp_.data()) == 0) return true;
    if (errno == EINTR) continue;
    // The task died while we decided (SIGKILL, or its thread group exited):
    // the kernel dropped the notification, there is nobody to answer.
    if (errno == ENOENT) return false;
    fail_errno(ErrorKind::runtime, errno, "SECCOMP_IOCTL_NOTIF_SEND");
  }
}

bool NotifyResponder::serve_one() { return receive() && answer(); }


std::string exe_path_of(pid_t pid) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/%d/exe", static_cast<int>(pid));
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link, buf, sizeof buf);
  if (n <= 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

ProcessWatch::ProcessWatch(EventSink* sink, bool track_exits) : sink_(sink) {
  if (track_exits) {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) fail_errno(ErrorKind::runtime, errno, "epoll_create1");
  }
}

bool ProcessWatch::is_exec(const SyscallEvent& ev) {
  const uint64_t key = (static_cast<uint64_t>(ev.audit_arch) << 32) | static_cast<uint32_t>(ev.nr);
  auto it = exec_nrs_.find(key);
  if (it != exec_nrs_.end()) return it->second;
  const arch::ArchNr an = arch::from_audit(ev.audit_arch, ev.nr);
  const auto name = arch::syscall_name(an.arch, an.nr);
  const bool v = name && (*name == "execve" || *name == "execveat");
  exec_nrs_.emplace(key, v);
  return v;
}

void ProcessWatch::on_notification(const SyscallEvent& ev) {
  const pid_t pid = ev.pid ? ev.pid : ev.tid;
  if (!exec_pending_.empty()) {
    auto it = exec_pending_.find(pid);
    if (it != exec_pending_.end()) {
      const std::string now = exe_path_of(pid);
      if (!now.empty() && (now != it->second || pid == force_exec_pid_) && sink_) sink_->on_exec(pid, now);
      if (pid == force_exec_pid_) force_exec_pid_ = 0;
      exec_pending_.erase(it);
    }
  }
  if (is_exec(ev)) exec_pending_[pid] = exe_path_of(pid);
  auto [it, fresh] = alive_.try_emplace(pid);
  if (!fresh) return;
  ++seen_;
  order_.push_back(pid);
  if (!epoll_) return;
  // The task is blocked in its syscall: the pid is still this process's.
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) return;  // no pidfd (fd limit, pre-5.3 kernel): its end comes with finish()
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = static_cast<uint32_t>(pid);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &e) == 0) it->second = std::move(fd);
}

void ProcessWatch::gone(pid_t pid) {
  exec_pending_.erase(pid);
  if (sink_) sink_->on_exit(pid, 0);
}

void ProcessWatch::collect_exits() {
  if (!epoll_) return;
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 64, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      const auto pid = static_cast<pid_t>(events[i].data.u64);
      // Closing the pidfd takes it out of the epoll set.
      if (alive_.erase(pid) == 1) gone(pid);
    }
    if (n < 64) return;
  }
}

void ProcessWatch::finish() {
  for (pid_t pid : order_)
    if (alive_.erase(pid) == 1) gone(pid);
  order_.clear();
}

bool asks_for_own_listener(const SyscallEvent& ev) {
  if (ev.args[0] != SECCOMP_SET_MODE_FILTER || !(ev.args[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER)) return false;
  if (ev.audit_arch == arch::native()) return ev.nr == SYS_seccomp;
  const std::optional<int> nr = arch::syscall_nr(ev.audit_arch, "seccomp");
  return nr && ev.nr == *nr;
}

NotifyCaps probe_notify_caps() {
  static const NotifyCaps caps = probe_in_child();
  return caps;
}

int notify_supervisor_threads() {
  if (const char* env = std::getenv("SCTRACE_NOTIFY_THREADS"); env && *env) {
    int n = std::atoi(env);
    if (n >= 1 && n <= 64) return n;
  }
  return kDefaultSupervisors;
}

bool notify_sync_wakeup_wanted() {
  const char* env = std::getenv("SCTRACE_NOTIFY_SYNC_WAKEUP");
  return !(env && std::strcmp(env, "0") == 0);
}

namespace {

// Serializes the handler for several supervisor threads: handlers (the
// recording sink, the verify bookkeeping) are single-threaded.
class LockedHandler : public NotifyHandler {
 public:
  explicit LockedHandler(NotifyHandler& inner) : inner_(inner) {}
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return inner_.on_notify(ev);
  }

 private:
  NotifyHandler& inner_;
  std::mutex mutex_;
};

// Threads that do nothing but receive and answer notifications on one
// listener: whatever the control loop is busy with (an interrupt, a slow
// waitpid, a timeout), a notified task waits only for a supervisor.
//
// Several threads take turns as receiver (leader/followers): one polls and
// receives while holding recv_mutex_, then lets the next one in before it
// calls the handler and answers. Polling without the mutex would wake every
// thread for each notification, and the losers would block in
// SECCOMP_IOCTL_NOTIF_RECV (it ignores O_NONBLOCK) where the stop eventfd
// cannot reach them.
class SupervisorPool {
 public:
  SupervisorPool(int listener, NotifyHandler& handler, int threads, ProcessTracker& tracker) : listener_(listener) {
    stop_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd_) fail_errno(ErrorKind::runtime, errno, "eventfd");
    failed_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!failed_fd_) fail_errno(ErrorKind::runtime, errno, "eventfd");
    for (int i = 0; i < threads; ++i) {
      responders_.push_back(std::make_unique<NotifyResponder>(listener, handler));
      responders_.back()->track(&tracker);
    }
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { serve(*responders_[static_cast<size_t>(i)]); });
  }
  ~SupervisorPool() { stop(); }
  SupervisorPool(const SupervisorPool&) = delete;
  SupervisorPool& operator=(const SupervisorPool&) = delete;

  // Readable once a supervisor failed (the control loop then gives up).
  int failed_fd() const { return failed_fd_.get(); }
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof one);
    for (auto& t : threads_) t.join();
  }
  // After stop(): the first error a supervisor met, rethrown.
  void rethrow() {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void serve(NotifyResponder& responder) {
    try {
      for (;;) {
        {
          std::lock_guard<std::mutex> lock(recv_mutex_);
          pollfd p[2] = {{listener_, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
          int r = ::poll(p, 2, -1);
          if (r < 0 && errno == EINTR) continue;
          if (r < 0) fail_errno(ErrorKind::runtime, errno, "poll on the seccomp listener");
          if (p[1].revents & POLLIN) return;
          if (p[0].revents & POLLIN) {
            if (!responder.receive()) continue;
          } else if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            // No task holds the filter any more: wait for stop().
            pollfd s{stop_fd_.get(), POLLIN, 0};
            while (::poll(&s, 1, -1) < 0 && errno == EINTR) {
            }
            return;
          } else {
            continue;
          }
        }
        responder.answer();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
      uint64_t one = 1;
      (void)!::write(failed_fd_.get(), &one, sizeof one);
    }
  }

  int listener_;
  UniqueFd stop_fd_;
  UniqueFd failed_fd_;
  std::mutex recv_mutex_;
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::vector<std::unique_ptr<NotifyResponder>> responders_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

// Signals every descendant of this process (read from /proc; with sctrace
// the child subreaper, orphans stay descendants) but those in `skip`. Each is
// pinned with a pidfd and its start time read again before the signal, so a
// pid reused between the two reads is left alone (a process re-parented to
// sctrace meanwhile is still the same one). Returns how many were signalled.
size_t signal_descendants(int sig, const std::unordered_set<pid_t>& skip = {}) {
  std::unordered_map<pid_t, ProcStat> procs;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      char* end = nullptr;
      const long pid = std::strtol(e->d_name, &end, 10);
      if (pid <= 0 || *end != '\0') continue;
      if (auto st = read_proc_stat(static_cast<pid_t>(pid))) procs.emplace(static_cast<pid_t>(pid), *st);
    }
    ::closedir(d);
  }
  const pid_t self = ::getpid();
  auto descends = [&](pid_t pid) {
    for (int depth = 0; depth < 4096 && pid > 1; ++depth) {
      auto it = procs.find(pid);
      if (it == procs.end()) return false;
      if (it->second.ppid == self) return true;
      pid = it->second.ppid;
    }
    return false;
  };
  size_t n = 0;
  for (const auto& [pid, st] : procs) {
    if (pid == self || skip.count(pid) || !descends(pid)) continue;
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!fd) continue;
    auto again = read_proc_stat(pid);
    if (!again || again->start_time != st.start_time) continue;  // gone, or another process now
    if (::syscall(SYS_pidfd_send_signal, fd.get(), sig, nullptr, 0) == 0) ++n;
  }
  return n;
}

}  // namespace

// Like the tracers, the run lasts until every process of the workload has
// exited: processes that outlive the first one (daemons, double forks) are
// served until no task holds the filter any more (the listener reports
// POLLHUP once the last one is reaped). Interrupts and the timeout reach all
// of them through the ProcessTracker's pidfds: the first interrupt goes to
// the first process (to the others once it is gone), the second and the
// timeout SIGKILL every one.
//
// Notifications are served by supervisor threads (SupervisorPool); this
// thread only watches the child and carries out what the Supervisor
// (tracer/supervisor.h: interrupts, the deadline) decides.
ExitStatus run_with_notify(const LaunchSpec& spec, NotifyHandler& handler) {
  if (spec.seccomp_filter.empty()) fail(ErrorKind::runtime, "run_with_notify: no seccomp filter to install");
  const NotifyCaps caps = probe_notify_caps();
  if (!caps.user_notif)
    fail(ErrorKind::runtime, "seccomp user notification is not available (needs Linux 5.0+ and seccomp allowed)");
  if (!caps.flag_continue)
    fail(ErrorKind::runtime, "seccomp user notification cannot let syscalls continue (needs Linux 5.5+)");
  InterruptFeed interrupts;
  ChildOptions opts;
  opts.filter = &spec.seccomp_filter;
  opts.new_listener = true;
  opts.no_new_privs = spec.no_new_privs;
  // Set before the child exists, so nothing it starts can be orphaned to init.
  struct Subreaper {
    bool on;
    explicit Subreaper(bool want) : on(want && ::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0) {}
    ~Subreaper() {
      if (on) ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }
  } subreaper(spec.adopt_orphans);
  // Forked before the workload, so that it stays out of the workload's
  // cgroup; the workload's first process joins that cgroup before its execve
  // (it waits for take_listener's ack first). Destroyed without finish() (an
  // error on the way), the guardian kills what is left of the workload.
  Guardian guardian = Guardian::start();
  ChildProcess child = ChildProcess::spawn(spec.argv, opts);
  guardian.adopt(child.pid());
  UniqueFd listener = child.take_listener();
  if (caps.sync_wakeup && notify_sync_wakeup_wanted()) set_sync_wakeup(listener.get());

  const int threads = notify_supervisor_threads();
  std::optional<LockedHandler> locked;
  if (threads > 1) locked.emplace(handler);
  ProcessTracker tracker;
  SupervisorPool pool(listener.get(), threads > 1 ? static_cast<NotifyHandler&>(*locked) : handler, threads,
                      tracker);

  SupervisorConfig config;
  if (spec.timeout.count() > 0) config.deadline = Clock::now() + spec.timeout;
  Supervisor supervisor(config);
  bool failed = false;
  std::optional<int> wait_status;
  // Every process of the workload: those the notifications named, and with
  // adopt_orphans every descendant.
  auto signal_rest = [&](int sig) {
    std::unordered_set<pid_t> done;  // each process gets the signal once
    if (guardian.pid() > 0) done.insert(guardian.pid());  // sctrace's, not the workload's
    tracker.signal_all(sig, &done);
    if (subreaper.on) signal_descendants(sig, done);
  };
  auto kill_everything = [&] {
    if (!wait_status) pidfd_signal(child.pidfd(), SIGKILL);
    signal_rest(SIGKILL);
  };

  for (;;) {
    const auto now = Clock::now();
    SupervisorActions a;
    if (wait_status) a |= supervisor.on_leader_exit(*wait_status);
    a |= interrupts.poll(supervisor, now);
    a |= supervisor.on_time(now);
    if (a.signal_leader != 0 && !wait_status) pidfd_signal(child.pidfd(), a.signal_leader);
    if (a.signal_rest != 0) signal_rest(a.signal_rest);
    // Again on every round: what a dying fork loop started since is killed too.
    if (supervisor.killing()) kill_everything();
    // Adopted orphans are reaped here (only after the first process, which
    // child.wait() reaps): a zombie still holds the filter, and the listener
    // hangs up only once none does.
    if (subreaper.on && wait_status)
      while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
      }

    int timeout_ms = kMaxPollMs;
    if (auto wake = supervisor.next_wakeup()) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(ms, 0, timeout_ms));
    }

    // events 0 on the listener: only its hang-up (no task holds the filter)
    // is of interest here; the supervisors take the notifications.
    pollfd fds[3] = {{pool.failed_fd(), POLLIN, 0}, {listener.get(), 0, 0}, {child.pidfd(), POLLIN, 0}};
    int r = ::poll(fds, wait_status ? 2 : 3, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_errno(ErrorKind::runtime, errno, "poll");
    }
    if (fds[0].revents & POLLIN) {
      failed = true;
      break;
    }
    if (!wait_status && (fds[2].revents & POLLIN)) {
      wait_status = child.wait();
      continue;  // poll again: POLLHUP only shows once the child is reaped
    }
    // No task holds the filter any more.
    if (wait_status && (fds[1].revents & (POLLHUP | POLLERR))) break;
  }
  supervisor.on_workload_exit();
  pool.stop();
  if (failed) {
    // A supervisor could not answer: nothing would let the workload on.
    kill_everything();
    if (!wait_status) wait_status = child.wait();
    if (subreaper.on)  // the adopted ones just killed, before the flag goes
      for (int round = 0; round < 50 && signal_descendants(SIGKILL, {guardian.pid()}) > 0; ++round) {
        while (::waitpid(-1, nullptr, WNOHANG | __WALL) > 0) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    pool.rethrow();
  }

  // Every process of the workload has exited (no task holds the filter).
  guardian.finish();
  // The error pipe is close-on-exec: an errno there means execve failed.
  if (int e = child.setup_errno(); e != 0)
    fail(e == ENOENT ? ErrorKind::not_found : ErrorKind::not_exec, "{}: {}", spec.argv.at(0), std::strerror(e));
  ExitStatus es = exit_status_from_wait(*wait_status);
  es.timed_out = supervisor.outcome().timed_out;
  es.killed_on_interrupt = supervisor.outcome().killed && !es.timed_out;
  return es;
}

}  // namespace sctrace
