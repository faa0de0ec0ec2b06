#include "tracer/child_process.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/error.h"

namespace sctrace {

namespace {

bool is_executable_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// Child side: report errno to the parent and leave like a shell would.
[[noreturn]] void child_fail(int fd, int err, int code) {
  (void)!::write(fd, &err, sizeof err);
  ::_exit(code);
}

}  // namespace

std::string resolve_command(const std::string& argv0) {
  if (argv0.empty()) fail(ErrorKind::usage, "no command given");
  if (argv0.find('/') != std::string::npos) {
    struct stat st {};
    if (::stat(argv0.c_str(), &st) != 0) fail(ErrorKind::not_found, "{}: command not found", argv0);
    if (!S_ISREG(st.st_mode) || ::access(argv0.c_str(), X_OK) != 0)
      fail(ErrorKind::not_exec, "{}: not an executable file", argv0);
    return argv0;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + argv0;
    if (is_executable_file(cand)) return cand;
    start = end + 1;
  }
  fail(ErrorKind::not_found, "{}: command not found", argv0);
}

ChildProcess ChildProcess::spawn(const std::vector<std::string>& argv, const ChildOptions& opts) {
  std::string exe = resolve_command(argv.at(0));
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int rel[2], info[2], err[2];
  if (::pipe2(rel, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd rel_r(rel[0]), rel_w(rel[1]);
  if (::pipe2(info, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd info_r(info[0]), info_w(info[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
  UniqueFd err_r(err[0]), err_w(err[1]);
  // The listener is close-on-exec: the child must not execve before the
  // parent has taken its copy, or pidfd_getfd finds nothing.
  UniqueFd ack_r, ack_w;
  if (opts.new_listener) {
    int ack[2];
    if (::pipe2(ack, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
    ack_r.reset(ack[0]);
    ack_w.reset(ack[1]);
  }

  sock_fprog prog{};
  if (opts.filter != nullptr) {
    prog.len = static_cast<unsigned short>(opts.filter->size());
    prog.filter = const_cast<sock_filter*>(opts.filter->data());
  }
  sock_fprog trace_prog{};
  if (opts.trace_filter != nullptr) {
    trace_prog.len = static_cast<unsigned short>(opts.trace_filter->size());
    trace_prog.filter = const_cast<sock_filter*>(opts.trace_filter->data());
  }

  // A non-dumpable parent (the in-container sensor) waits until its child
  // has made itself dumpable again (below): PTRACE_SEIZE needs that.
  UniqueFd dump_r, dump_w;
  if (::prctl(PR_GET_DUMPABLE) == 0) {
    int dp[2];
    if (::pipe2(dp, O_CLOEXEC) != 0) fail_errno(ErrorKind::runtime, errno, "pipe");
    dump_r.reset(dp[0]);
    dump_w.reset(dp[1]);
  }
  const pid_t parent_pid = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) fail_errno(ErrorKind::runtime, errno, "fork");
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Die with sctrace rather than run on untraced.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // sctrace may have died before the prctl took effect.
    if (::getppid() != parent_pid) ::_exit(127);
    // The in-container sensor makes itself non-dumpable, and a fork inherits
    // that: PTRACE_SEIZE of this child would then need CAP_SYS_PTRACE. The
    // child holds none of the sensor's secrets (its key lives in
    // MADV_WIPEONFORK memory), and execve decides dumpability afresh anyway.
    if (dump_w) {
      ::prctl(PR_SET_DUMPABLE, 1);
      char c = 1;
      (void)!::write(dump_w.get(), &c, 1);
      ::close(dump_w.get());
    }
    if (opts.wait_for_release) {
      // Only sctrace may hold the write end: if it dies before release() the
      // read sees EOF (with our copy open it would block forever), and then
      // we leave rather than run untraced.
      rel_w.reset();
      char c;
      ssize_t n;
      while ((n = ::read(rel_r.get(), &c, 1)) < 0 && errno == EINTR) {
      }
      if (n != 1) ::_exit(127);
    }
    if (opts.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(err_w.get(), errno, 126);
    if (opts.filter != nullptr) {
      unsigned flags = 0;
      if (opts.new_listener) {
        // Only the parent's write end may keep the ack pipe open (EOF if it
        // dies). Closed first: it frees an fd number.
        ::close(ack_w.get());
        // The listener gets the lowest free fd: tell the parent which one
        // before installing, because after it every syscall may be notified
        // and nobody would answer.
        int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (probe < 0) child_fail(err_w.get(), errno, 126);
        ::close(probe);
        if (::write(info_w.get(), &probe, sizeof probe) != sizeof probe) child_fail(err_w.get(), errno, 126);
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
      }
      if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0) child_fail(err_w.get(), errno, 126);
      if (opts.new_listener) {
        // Wait until take_listener() has the fd. This read goes through the
        // filter: if it is notified, the parent answers it once it holds the
        // listener, and whatever the answer, the child goes on.
        char c;
        while (::read(ack_r.get(), &c, 1) < 0 && errno == EINTR) {
        }
      }
    }
    // SPEC_ALLOW: a filter that only watches must not switch on speculation
    // mitigations the workload would not otherwise run with.
    if (opts.trace_filter != nullptr &&
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &trace_prog) < 0)
      child_fail(err_w.get(), errno, 126);
    ::execv(exe.c_str(), cargv.data());
    child_fail(err_w.get(), errno, errno == ENOENT ? 127 : 126);
  }

  if (dump_r) {
    dump_w.reset();
    char c;
    while (::read(dump_r.get(), &c, 1) < 0 && errno == EINTR) {
    }
  }
  ChildProcess cp;
  cp.pid_ = pid;
  cp.pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  cp.release_w_ = std::move(rel_w);
  cp.info_r_ = std::move(info_r);
  cp.error_r_ = std::move(err_r);
  cp.ack_w_ = std::move(ack_w);
  return cp;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      pidfd_(std::move(o.pidfd_)),
      release_w_(std::move(o.release_w_)),
      info_r_(std::move(o.info_r_)),
      error_r_(std::move(o.error_r_)),
      ack_w_(std::move(o.ack_w_)),
      reaped_(std::exchange(o.reaped_, true)) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int st;
    while (::waitpid(pid_, &st, __WALL) < 0 && errno == EINTR) {
    }
  }
}

int ChildProcess::signal(int sig) const {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0));
}

void ChildProcess::release() {
  char c = 1;
  (void)!::write(release_w_.get(), &c, 1);
  release_w_.reset();
}

UniqueFd ChildProcess::take_listener() {
  int target = -1;
  ssize_t n;
  while ((n = ::read(info_r_.get(), &target, sizeof target)) < 0 && errno == EINTR) {
  }
  if (n != sizeof target) {
    int e = setup_errno();
    fail(ErrorKind::runtime, "the child could not prepare its seccomp filter: {}", std::strerror(e ? e : EPIPE));
  }
  // Poll until the fd exists in the child and is the listener. The child does
  // nothing between the write above and seccomp(), so this is short; then it
  // waits for the ack before execve closes the listener (close-on-exec).
  for (int attempt = 0;; ++attempt) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd_.get(), target, 0)));
    if (fd) {
      char link[64] = {};
      std::string self = "/proc/self/fd/" + std::to_string(fd.get());
      ssize_t l = ::readlink(self.c_str(), link, sizeof link - 1);
      if (l > 0 && std::strstr(link, "seccomp notify") != nullptr) {
        char go = 1;
        (void)!::write(ack_w_.get(), &go, 1);
        ack_w_.reset();
        return fd;
      }
    }
    siginfo_t si{};
    si.si_pid = 0;
    if (::waitid(P_PID, static_cast<id_t>(pid_), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0) {
      int e = setup_errno();
      fail(ErrorKind::runtime, "the child exited before installing its seccomp filter: {}",
           std::strerror(e ? e : ECHILD));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(attempt < 100 ? 20 : 1000));
  }
}

int ChildProcess::wait() {
  int st = 0;
  while (::waitpid(pid_, &st, __WALL) < 0) {
    if (errno != EINTR) fail_errno(ErrorKind::runtime, errno, "waitpid");
  }
  reaped_ = true;
  return st;
}

int ChildProcess::setup_errno() {
  if (!error_r_) return 0;
  int e = 0;
  int fl = ::fcntl(error_r_.get(), F_GETFL);
  ::fcntl(error_r_.get(), F_SETFL, fl | O_NONBLOCK);
  if (::read(error_r_.get(), &e, sizeof e) != sizeof e) e = 0;
  return e;
}

}  // namespace sctrace
