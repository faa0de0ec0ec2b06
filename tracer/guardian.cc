#include "tracer/guardian.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "tracer/self_defence.h"
#include "tracer/temp_dir.h"

namespace sctrace {

namespace {

constexpr std::string_view kCgroupKind = "workload";  // sctrace-workload-<owner>-XXXXXX
constexpr char kDone = 'd';

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t from = 0;
  for (size_t at; (at = s.find(sep, from)) != std::string_view::npos; from = at + 1) out.push_back(s.substr(from, at - from));
  out.push_back(s.substr(from));
  return out;
}

// A /proc file of our own; empty when it cannot be read (then no cgroup is used).
std::string read_own_proc_file(const char* path) {
  try {
    return read_file(path);
  } catch (const Error&) {
    return {};
  }
}

// The files of one cgroup the guardian uses, spelt out before the fork.
struct CgroupFiles {
  CgroupKind kind = CgroupKind::none;
  std::string dir, procs, kill, freezer;
};

CgroupFiles files_of(CgroupKind kind, const std::string& dir) {
  return {kind, dir, dir + "/cgroup.procs", dir + "/cgroup.kill", dir + "/freezer.state"};
}

// From here to kill_and_remove: only async-signal-safe calls and no
// allocation, for the guardian runs them in a fork of a threaded sctrace.

bool write_text(const char* path, const char* text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const size_t len = std::strlen(text);
  const bool ok = ::write(fd, text, len) == static_cast<ssize_t>(len);
  ::close(fd);
  return ok;
}

// Reads up to cap bytes of a small kernel file; -1 when it cannot be opened.
ssize_t read_text(const char* path, char* buf, size_t cap) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  while (got < cap) {
    const ssize_t n = ::read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return static_cast<ssize_t>(got);
}

void pause_ms(long ms) {
  timespec ts{0, ms * 1000000L};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

// SIGKILLs every process cgroup.procs lists; returns how many it listed.
size_t kill_listed(const char* procs) {
  static char text[64 * 1024];
  static pid_t pids[8192];
  const ssize_t n = read_text(procs, text, sizeof text);
  if (n <= 0) return 0;
  const size_t count = parse_pid_list(text, static_cast<size_t>(n), pids, sizeof pids / sizeof pids[0]);
  for (size_t i = 0; i < count; ++i) ::kill(pids[i], SIGKILL);
  return count;
}

// Kills everything in the cgroup until it is empty and removes it. v2:
// cgroup.kill, which no fork escapes. v1: frozen tasks cannot fork, so the
// first SIGKILL round reaches all of them (they die once thawed); later
// rounds catch a fork that was already under way. Gives up after about 30 s
// (a task stuck in the kernel): the next run's sweep tries again.
void kill_and_remove(const CgroupFiles& f) {
  if (f.kind == CgroupKind::v2) write_text(f.kill.c_str(), "1");
  bool frozen = false;
  if (f.kind == CgroupKind::v1_freezer && write_text(f.freezer.c_str(), "FROZEN")) {
    frozen = true;
    char state[16];
    for (int i = 0; i < 200; ++i) {
      const ssize_t n = read_text(f.freezer.c_str(), state, sizeof state);
      if (n >= 6 && std::memcmp(state, "FROZEN", 6) == 0) break;
      pause_ms(10);
    }
  }
  for (int round = 0; round < 3000; ++round) {
    const size_t listed = kill_listed(f.procs.c_str());
    if (frozen) frozen = !write_text(f.freezer.c_str(), "THAWED");
    if (listed == 0 && (::rmdir(f.dir.c_str()) == 0 || errno == ENOENT)) return;
    pause_ms(10);
  }
}

// The guardian: waits for the done byte or for EOF (sctrace is gone).
[[noreturn]] void guard(int done_r, const CgroupFiles& f) {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  // The terminal's signals go to sctrace's process group, which the guardian
  // shares: sctrace forwards them to the workload; the guardian stays.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM})
    ::sigaction(sig, &ign, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::prctl(PR_SET_DUMPABLE, 0);  // no ptrace by a process of the same user
  ::prctl(PR_SET_NAME, "sctrace-guard");
  // Nothing of sctrace's but the pipe: a pipe sctrace writes to (its stdout)
  // must see its end when sctrace ends, not when the guardian does.
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0)
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
  if (done_r > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(done_r - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(done_r + 1), ~0u, 0u);
  char c = 0;
  ssize_t n;
  while ((n = ::read(done_r, &c, 1)) < 0 && errno == EINTR) {
  }
  // Done: the workload is over, the cgroup should be empty already.
  if (n == 1 && c == kDone && ::rmdir(f.dir.c_str()) == 0) ::_exit(0);
  kill_and_remove(f);
  ::_exit(0);
}

void say_fallback(const std::string& why) {
  static bool said = false;
  if (said) return;
  said = true;
  std::fprintf(stderr,
               "sctrace: %s: if sctrace is killed, only the workload's first process is sure to die with it\n",
               why.c_str());
}

const char* controller_of(CgroupKind kind) { return kind == CgroupKind::v2 ? "" : "freezer"; }

// The directory new cgroups of this kind go in: beside nothing, under ours.
std::optional<std::string> parent_dir(CgroupKind kind, const std::string& mountinfo, const std::string& own) {
  const auto mount = find_cgroup_mount(mountinfo, controller_of(kind));
  const auto path = own_cgroup_path(own, controller_of(kind));
  if (!mount || !path) return std::nullopt;
  return cgroup_dir(*mount, *path);
}

std::optional<std::string> make_cgroup(CgroupKind kind, const std::string& mountinfo, const std::string& own) {
  const auto parent = parent_dir(kind, mountinfo, own);
  if (!parent) return std::nullopt;
  std::string dir;
  try {
    dir = make_owned_temp_dir(kCgroupKind, *parent);
  } catch (const Error&) {
    return std::nullopt;  // not writable
  }
  // cgroup.kill came with Linux 5.14; without it a v2 cgroup is no help.
  const CgroupFiles f = files_of(kind, dir);
  const std::string& needed = kind == CgroupKind::v2 ? f.kill : f.freezer;
  if (::access(needed.c_str(), W_OK) != 0) {
    ::rmdir(dir.c_str());
    return std::nullopt;
  }
  return dir;
}

}  // namespace

std::optional<CgroupMount> find_cgroup_mount(std::string_view mountinfo, std::string_view controller) {
  // "36 35 0:30 / /sys/fs/cgroup/freezer rw,relatime shared:1 - cgroup cgroup rw,freezer"
  for (std::string_view line : split(mountinfo, '\n')) {
    const size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const auto before = split(line.substr(0, dash), ' ');
    const auto after = split(line.substr(dash + 3), ' ');
    if (before.size() < 5 || after.size() < 3) continue;
    bool match = false;
    if (controller.empty()) {
      match = after[0] == "cgroup2";
    } else if (after[0] == "cgroup") {
      for (std::string_view opt : split(after[2], ','))
        if (opt == controller) match = true;
    }
    if (match) return CgroupMount{std::string(before[4]), std::string(before[3])};
  }
  return std::nullopt;
}

std::optional<std::string> own_cgroup_path(std::string_view proc_self_cgroup, std::string_view controller) {
  // "hierarchy-ID:controller-list:path"; v2 is "0::path".
  for (std::string_view line : split(proc_self_cgroup, '\n')) {
    const size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    const size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, a), list = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (path.empty() || path[0] != '/') continue;
    if (controller.empty()) {
      if (id == "0" && list.empty()) return std::string(path);
      continue;
    }
    for (std::string_view c : split(list, ','))
      if (c == controller) return std::string(path);
  }
  return std::nullopt;
}

std::optional<std::string> cgroup_dir(const CgroupMount& mount, const std::string& path) {
  std::string rest;
  if (mount.root == "/") {
    rest = path;
  } else if (path == mount.root || (path.rfind(mount.root, 0) == 0 && path[mount.root.size()] == '/')) {
    rest = path.substr(mount.root.size());
  } else {
    return std::nullopt;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  // A path that climbs (a cgroup namespace's "/.." views) is not ours to use.
  for (std::string_view part : split(rest, '/'))
    if (part == "..") return std::nullopt;
  return mount.mount_point + rest;
}

size_t parse_pid_list(const char* text, size_t len, pid_t* out, size_t max) {
  size_t count = 0;
  long value = 0;
  bool digits = false;
  for (size_t i = 0; i < len && count < max; ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      value = digits ? value * 10 + (c - '0') : (c - '0');
      digits = true;
      if (value > 0x7fffffffL) return count;  // not a pid list
    } else {
      if (digits && value > 0) out[count++] = static_cast<pid_t>(value);
      digits = false;
    }
  }
  return count;
}

Guardian Guardian::start() {
  Guardian g;
  const char* forced_env = std::getenv("SCTRACE_GUARDIAN_CGROUP");
  const std::string forced = forced_env ? forced_env : "";
  const std::string mountinfo = read_own_proc_file("/proc/self/mountinfo");
  const std::string own = read_own_proc_file("/proc/self/cgroup");
  for (CgroupKind kind : {CgroupKind::v2, CgroupKind::v1_freezer}) {
    if (!forced.empty() && forced != (kind == CgroupKind::v2 ? "v2" : "v1")) continue;
    if (auto dir = make_cgroup(kind, mountinfo, own)) {
      g.kind_ = kind;
      g.dir_ = *dir;
      break;
    }
  }
  if (g.kind_ == CgroupKind::none) {
    say_fallback(forced == "none" ? "no cgroup for the workload (SCTRACE_GUARDIAN_CGROUP=none)"
                                  : "no writable cgroup to hold the workload");
    return g;
  }
  const CgroupFiles files = files_of(g.kind_, g.dir_);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    ::rmdir(g.dir_.c_str());
    fail_errno(ErrorKind::runtime, errno, "pipe");
  }
  UniqueFd done_r(p[0]);
  g.done_w_.reset(p[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::rmdir(g.dir_.c_str());
    fail_errno(ErrorKind::runtime, errno, "fork");
  }
  if (pid == 0) guard(done_r.get(), files);
  g.pid_ = pid;
  g.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  set_guardian_pid(pid);
  return g;
}

Guardian::Guardian(Guardian&& o) noexcept
    : kind_(std::exchange(o.kind_, CgroupKind::none)),
      dir_(std::move(o.dir_)),
      pid_(std::exchange(o.pid_, 0)),
      pidfd_(std::move(o.pidfd_)),
      done_w_(std::move(o.done_w_)) {}

Guardian::~Guardian() { stop(false); }

void Guardian::finish() { stop(true); }

bool Guardian::adopt(pid_t pid) {
  if (kind_ == CgroupKind::none) return false;
  const CgroupFiles f = files_of(kind_, dir_);
  if (write_text(f.procs.c_str(), std::to_string(pid).c_str())) return true;
  const int e = errno;
  say_fallback(fmt::format("cannot move the workload into {}: {}", dir_, std::strerror(e)));
  stop(true);
  kind_ = CgroupKind::none;
  return false;
}

void Guardian::stop(bool done) {
  if (!done_w_) return;
  if (done) {
    const char c = kDone;
    (void)!::write(done_w_.get(), &c, 1);
  }
  done_w_.reset();
  // Wait for it (it ends within milliseconds unless a task will not die),
  // then reap it; if sctrace's subreaper loop reaped it already, ECHILD.
  if (pidfd_) {
    pollfd p{pidfd_.get(), POLLIN, 0};
    while (::poll(&p, 1, 10000) < 0 && errno == EINTR) {
    }
  }
  int st = 0;
  ::waitpid(pid_, &st, WNOHANG);
  set_guardian_pid(0);
}

std::vector<std::string> remove_orphaned_cgroups() {
  std::vector<std::string> removed;
  const std::string mountinfo = read_own_proc_file("/proc/self/mountinfo");
  const std::string own = read_own_proc_file("/proc/self/cgroup");
  const std::string prefix = fmt::format("sctrace-{}-", kCgroupKind);
  for (CgroupKind kind : {CgroupKind::v2, CgroupKind::v1_freezer}) {
    const auto parent = parent_dir(kind, mountinfo, own);
    if (!parent) continue;
    for (const auto& dir : orphaned_owned_dirs(*parent)) {
      if (dir.compare(parent->size() + 1, prefix.size(), prefix) != 0) continue;
      kill_and_remove(files_of(kind, dir));
      struct stat st {};
      if (::stat(dir.c_str(), &st) != 0) removed.push_back(dir);
    }
  }
  return removed;
}

}  // namespace sctrace
