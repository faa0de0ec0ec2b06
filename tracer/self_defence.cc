#include "tracer/self_defence.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/arch.h"
#include "core/unique_fd.h"
#include "tracer/proc_stat.h"

namespace sctrace {

namespace {

// The calls that name another process. kcmp, prlimit64, sched_set*,
// setpriority and the like can also name the tracer; they do not stop it and
// are left alone.
constexpr const char* kWatched[] = {"ptrace",      "process_vm_readv", "process_vm_writev", "process_madvise",
                                    "pidfd_open",  "pidfd_getfd",      "pidfd_send_signal", "kill",
                                    "tkill",       "tgkill",           "rt_sigqueueinfo",   "rt_tgsigqueueinfo"};

// pid_t and int arguments are 32 bits on every ABI; the kernel ignores the
// upper half of the register.
int32_t as_int(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

std::string signal_text(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", sig);
}

std::string ptrace_request_text(int64_t request) {
  switch (request) {
    case PTRACE_TRACEME: return "PTRACE_TRACEME";
    case PTRACE_ATTACH: return "PTRACE_ATTACH";
    case PTRACE_SEIZE: return "PTRACE_SEIZE";
    case PTRACE_INTERRUPT: return "PTRACE_INTERRUPT";
    case PTRACE_PEEKDATA: return "PTRACE_PEEKDATA";
    case PTRACE_POKEDATA: return "PTRACE_POKEDATA";
    default: return fmt::format("request {:#x}", request);
  }
}

std::string read_link(const std::string& path) {
  char buf[256];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return {};
  return std::string(buf, static_cast<size_t>(n));
}

class RealProcView final : public ProcView {
 public:
  pid_t tgid_of(pid_t tid) override {
    const auto st = read_proc_status(tid);
    return st ? st->tgid : 0;
  }
  pid_t pgid_of(pid_t pid) override {
    const auto st = read_proc_stat(pid);
    return st ? st->pgrp : 0;
  }
  pid_t ppid_of(pid_t pid) override {
    const auto st = read_proc_stat(pid);
    return st ? st->ppid : 0;
  }
  pid_t fd_target(pid_t pid, int fd) override {
    if (fd < 0) return 0;
    const std::string link = read_link(fmt::format("/proc/{}/fd/{}", pid, fd));
    // anon_inode:[pidfd] (pidfs since 6.9: "pidfd:[ino]"): its fdinfo names
    // the process in the pid namespace of our /proc, which is the tracer's.
    if (link.find("pidfd") != std::string::npos) {
      const std::optional<pid_t> target = pidfd_target(pid, fd);
      return target && *target > 0 ? *target : 0;
    }
    // A /proc/<n> directory, which pidfd_send_signal takes as well.
    if (link.rfind("/proc/", 0) == 0 && link.size() > 6 &&
        link.find_first_not_of("0123456789", 6) == std::string::npos)
      return static_cast<pid_t>(std::strtol(link.c_str() + 6, nullptr, 10));
    return 0;
  }
  bool shares_pid_ns(pid_t pid) override {
    struct stat self {}, other {};
    if (::stat("/proc/self/ns/pid", &self) != 0) return true;  // no namespaces: one space of numbers
    if (::stat(fmt::format("/proc/{}/ns/pid", pid).c_str(), &other) != 0) return true;
    return self.st_ino == other.st_ino && self.st_dev == other.st_dev;
  }
};

std::string& tracer_description() {
  static std::string text = "sctrace itself";
  return text;
}

}  // namespace

std::vector<std::string> self_defence_syscalls() { return {std::begin(kWatched), std::end(kWatched)}; }

bool stops_or_kills(int sig) {
  return sig == SIGKILL || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

AimedAt aimed_at(std::string_view name, const std::array<uint64_t, 6>& args, bool wide) {
  AimedAt a;
  using K = AimedAt::Kind;
  auto signal = [&](K kind, int64_t id, int sig, std::string call) {
    if (sig == 0) return;
    a.kind = kind;
    a.id = id;
    a.call = fmt::format("{}({})", call, signal_text(sig));
  };
  if (name == "ptrace") {
    const int64_t request = wide ? static_cast<int64_t>(args[0]) : as_int(args[0]);
    a.call = fmt::format("ptrace({})", ptrace_request_text(request));
    if (request == PTRACE_TRACEME) {
      a.kind = K::parent;
    } else {
      a.kind = K::process;
      a.id = as_int(args[1]);
    }
  } else if (name == "process_vm_readv" || name == "process_vm_writev" || name == "pidfd_open") {
    a.kind = K::process;
    a.id = as_int(args[0]);
    a.call = std::string(name);
  } else if (name == "pidfd_getfd" || name == "process_madvise") {
    a.kind = K::pidfd;
    a.id = as_int(args[0]);
    a.call = std::string(name);
  } else if (name == "pidfd_send_signal") {
    signal(K::pidfd, as_int(args[0]), as_int(args[1]), "pidfd_send_signal");
  } else if (name == "kill") {
    const int32_t pid = as_int(args[0]);
    const int sig = as_int(args[1]);
    if (pid > 0) {
      signal(K::process, pid, sig, "kill");
    } else if (stops_or_kills(sig)) {
      if (pid == 0) signal(K::caller_group, 0, sig, "kill");
      else if (pid == -1) signal(K::everyone, 0, sig, "kill");
      else if (pid != INT32_MIN) signal(K::group, -static_cast<int64_t>(pid), sig, "kill");
    }
  } else if (name == "rt_sigqueueinfo") {
    signal(K::process, as_int(args[0]), as_int(args[1]), "rt_sigqueueinfo");
  } else if (name == "tkill") {
    signal(K::thread, as_int(args[0]), as_int(args[1]), "tkill");
  } else if (name == "tgkill" || name == "rt_tgsigqueueinfo") {
    signal(K::thread, as_int(args[1]), as_int(args[2]), std::string(name));
    if (a.kind == K::thread) a.tgid = as_int(args[0]);
  }
  return a;
}

ProcView& real_proc_view() {
  static RealProcView view;
  return view;
}

void set_tracer_description(std::string text) { tracer_description() = std::move(text); }

namespace {
std::atomic<pid_t> g_guardian{0};
}  // namespace

void set_guardian_pid(pid_t pid) { g_guardian.store(pid); }
pid_t guardian_pid() { return g_guardian.load(); }

SelfDefence::SelfDefence(ProcView& view) : SelfDefence(view, ::getpid()) {}

SelfDefence::SelfDefence(ProcView& view, pid_t tracer_pid)
    : view_(view), tracer_pid_(tracer_pid), tracer_pgid_(view.pgid_of(tracer_pid)), description_(tracer_description()) {
  std::vector<arch::Token> tokens = {arch::native()};
  if (arch::native() == arch::from_scmp_name("SCMP_ARCH_X86_64"))
    for (const char* sub : {"SCMP_ARCH_X86", "SCMP_ARCH_X32"})
      if (auto t = arch::from_scmp_name(sub)) tokens.push_back(*t);
  for (arch::Token t : tokens)
    for (const char* name : kWatched)
      if (auto nr = arch::syscall_nr(t, name)) hint_[static_cast<uint32_t>(*nr) % hint_.size()] = true;
}

const std::string* SelfDefence::name_of(uint32_t audit_arch, int32_t nr) {
  const uint64_t key = (static_cast<uint64_t>(audit_arch) << 32) | static_cast<uint32_t>(nr);
  auto it = names_.find(key);
  if (it == names_.end()) {
    const arch::ArchNr an = arch::from_audit(audit_arch, nr);
    std::string name;
    if (auto n = arch::syscall_name(an.arch, an.nr))
      for (const char* w : kWatched)
        if (*n == w) name = *n;
    it = names_.emplace(key, std::move(name)).first;
  }
  return it->second.empty() ? nullptr : &it->second;
}

pid_t SelfDefence::defended(pid_t pid) {
  if (pid <= 0) return 0;
  if (pid == tracer_pid_) return tracer_pid_;
  if (pid == guardian_pid()) return pid;
  // One of the tracer's threads (the notify supervisors, the sensor's flusher).
  return view_.tgid_of(pid) == tracer_pid_ ? tracer_pid_ : 0;
}

std::optional<std::string> SelfDefence::check(const SyscallEvent& ev) {
  if (!hint_[static_cast<uint32_t>(ev.nr) % hint_.size()]) return std::nullopt;
  const std::string* name = name_of(ev.audit_arch, ev.nr);
  if (name == nullptr) return std::nullopt;
  // 64-bit ABIs pass ptrace's request as a 64-bit long; x32 (the x86_64
  // audit arch with bit 30 in the number) goes through the compat entry.
  const bool wide = (ev.audit_arch & __AUDIT_ARCH_64BIT) != 0 &&
                    !(ev.audit_arch == AUDIT_ARCH_X86_64 && (static_cast<uint32_t>(ev.nr) & 0x40000000u) != 0);
  const AimedAt a = aimed_at(*name, ev.args, wide);
  if (a.kind == AimedAt::Kind::none) return std::nullopt;
  const pid_t caller = ev.pid ? ev.pid : ev.tid;
  // A caller in a pid namespace of its own cannot name the tracer at all:
  // its numbers mean other processes.
  if (!view_.shares_pid_ns(caller)) return std::nullopt;
  using K = AimedAt::Kind;
  bool hit = false;
  pid_t whom = tracer_pid_;  // the guardian for a call aimed at it alone
  auto aims_at = [&](pid_t pid) {
    if (const pid_t d = defended(pid)) {
      whom = d;
      return true;
    }
    return false;
  };
  const char* how = "of";
  switch (a.kind) {
    case K::none: break;
    case K::process: hit = aims_at(static_cast<pid_t>(a.id)); break;
    case K::thread: hit = aims_at(static_cast<pid_t>(a.id)) || (a.tgid > 0 && aims_at(static_cast<pid_t>(a.tgid))); break;
    case K::pidfd: hit = aims_at(view_.fd_target(ev.tid, static_cast<int>(a.id))); break;
    case K::parent:
      hit = view_.ppid_of(caller) == tracer_pid_;
      how = "under";
      break;
    case K::group:
      hit = tracer_pgid_ > 0 && a.id == tracer_pgid_;
      how = "to a process group that holds";
      break;
    case K::caller_group:
      hit = tracer_pgid_ > 0 && view_.pgid_of(caller) == tracer_pgid_;
      how = "to its process group, which holds";
      break;
    case K::everyone:
      // kill(-1) spares the caller's pid-namespace init (the sensor as PID 1).
      hit = tracer_pid_ != 1;
      how = "to every process, including";
      break;
  }
  if (!hit) return std::nullopt;
  if (whom != tracer_pid_)
    return fmt::format("refused the workload's {} {} sctrace's guardian (pid {}): EPERM", a.call, how, whom);
  return fmt::format("refused the workload's {} {} {} (pid {}): EPERM", a.call, how, description_, tracer_pid_);
}

}  // namespace sctrace
