#include "tracer/ptrace_tracer.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/arch.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "tracer/child_process.h"
#include "tracer/interrupt.h"

namespace sctrace {

namespace {

class RealSys final : public SysIface {
 public:
  int resume(int request, pid_t tid, int sig) override {
    if (::ptrace(static_cast<__ptrace_request>(request), tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig))) <
        0)
      return errno;
    return 0;
  }
  int syscall_info(pid_t tid, __ptrace_syscall_info& out) override {
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof out), &out) <= 0) return errno ? errno : EIO;
    return 0;
  }
  int set_syscall_info(pid_t tid, const __ptrace_syscall_info& in) override {
    // Newer than the C library's headers.
    constexpr int kPtraceSetSyscallInfo = 0x4212;
    if (::ptrace(static_cast<__ptrace_request>(kPtraceSetSyscallInfo), tid, reinterpret_cast<void*>(sizeof in),
                 const_cast<__ptrace_syscall_info*>(&in)) < 0)
      return errno;
    return 0;
  }
  int skip_syscall(pid_t tid, int64_t rval) override {
#if defined(__x86_64__)
    // orig_rax -1 at a seccomp stop: the kernel skips the syscall and leaves
    // rax as the return value. The tracer's view is the 64-bit layout for
    // i386 tasks and int 0x80 too.
    if (::ptrace(PTRACE_POKEUSER, tid, offsetof(user_regs_struct, orig_rax), -1L) < 0) return errno;
    if (::ptrace(PTRACE_POKEUSER, tid, offsetof(user_regs_struct, rax), rval) < 0) return errno;
    return 0;
#else
    (void)tid;
    (void)rval;
    return ENOSYS;
#endif
  }
  int set_syscall_arg(pid_t tid, uint32_t audit_arch, unsigned index, uint64_t value) override {
#if defined(__x86_64__)
    // The 64-bit register view serves every ABI: x86_64 and x32 pass
    // arguments in rdi, rsi, rdx, r10, r8, r9; int 0x80 in ebx, ecx, edx,
    // esi, edi, ebp.
    static constexpr size_t k64[] = {offsetof(user_regs_struct, rdi), offsetof(user_regs_struct, rsi),
                                     offsetof(user_regs_struct, rdx), offsetof(user_regs_struct, r10),
                                     offsetof(user_regs_struct, r8),  offsetof(user_regs_struct, r9)};
    static constexpr size_t k32[] = {offsetof(user_regs_struct, rbx), offsetof(user_regs_struct, rcx),
                                     offsetof(user_regs_struct, rdx), offsetof(user_regs_struct, rsi),
                                     offsetof(user_regs_struct, rdi), offsetof(user_regs_struct, rbp)};
    if (index >= 6) return EINVAL;
    const auto x86_64 = arch::from_scmp_name("SCMP_ARCH_X86_64"), x86 = arch::from_scmp_name("SCMP_ARCH_X86");
    const size_t* regs = audit_arch == x86_64 ? k64 : audit_arch == x86 ? k32 : nullptr;
    if (regs == nullptr) return ENOSYS;
    if (::ptrace(PTRACE_POKEUSER, tid, regs[index], value) < 0) return errno;
    return 0;
#else
    (void)tid, (void)audit_arch, (void)index, (void)value;
    return ENOSYS;
#endif
  }
  int event_msg(pid_t tid, unsigned long& out) override {
    if (::ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &out) < 0) return errno;
    return 0;
  }
  int set_options(pid_t tid, unsigned options) override {
    if (::ptrace(PTRACE_SETOPTIONS, tid, nullptr, reinterpret_cast<void*>(static_cast<unsigned long>(options))) < 0)
      return errno;
    return 0;
  }
  int kill(pid_t pid, int sig) override { return ::kill(pid, sig) < 0 ? errno : 0; }
  int read_u64(pid_t tid, uint64_t addr, uint64_t& out) override {
    iovec local{&out, sizeof out};
    iovec remote{reinterpret_cast<void*>(addr), sizeof out};
    ssize_t n = ::process_vm_readv(tid, &local, 1, &remote, 1, 0);
    if (n == static_cast<ssize_t>(sizeof out)) return 0;
    return n < 0 ? errno : EFAULT;
  }
  pid_t tgid_of(pid_t tid) override {
    std::string path = fmt::format("/proc/{}/status", tid);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return 0;
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const char* p = std::strstr(buf, "\nTgid:");
    if (p == nullptr) return 0;
    return static_cast<pid_t>(std::strtol(p + 6, nullptr, 10));
  }
  std::string exe_of(pid_t pid) override {
    std::string path = fmt::format("/proc/{}/exe", pid);
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n <= 0) return {};
    return std::string(buf, static_cast<size_t>(n));
  }
};

}  // namespace

std::vector<CloneSyscall> clone_syscalls() {
  // Numbers from libseccomp, for the native arch and the ABIs a tracee of it
  // can also call (libseccomp has no list of those: x86_64's are named).
  std::vector<CloneSyscall> out;
  const arch::Token native = arch::native();
  std::vector<arch::Token> tokens = {native};
  const auto x86_64 = arch::from_scmp_name("SCMP_ARCH_X86_64"), x32 = arch::from_scmp_name("SCMP_ARCH_X32");
  if (native == x86_64)
    for (const char* sub : {"SCMP_ARCH_X86", "SCMP_ARCH_X32"})
      if (auto t = arch::from_scmp_name(sub)) tokens.push_back(*t);
  for (arch::Token t : tokens) {
    // The kernel reports x32 calls under AUDIT_ARCH_X86_64, numbered with
    // the x32 bit, which is how libseccomp numbers them too.
    const uint32_t audit = x86_64 && t == x32 ? *x86_64 : t;
    const std::string name = arch::short_name(t);
    // s390 swaps clone's first two arguments (CLONE_BACKWARDS2).
    const unsigned flags_arg = name == "s390" || name == "s390x" ? 1 : 0;
    if (auto nr = arch::syscall_nr(t, "clone")) out.push_back({audit, *nr, false, flags_arg});
    if (auto nr = arch::syscall_nr(t, "clone3")) out.push_back({audit, *nr, true, 0});
  }
  return out;
}

namespace {

// Watch mode stops only where the profile's filter says TRACE, so a clone
// the profile allows would never reach keep_child_traced. Every
// SECCOMP_RET_ALLOW of the watch filter is sent through a short tail that
// stops clone with CLONE_UNTRACED and every clone3 (whose flags BPF cannot
// read), with kCloneGuardData as the data, which tells those stops from the
// profile's own. Each RET is replaced by one JA, so no other jump moves.
std::vector<sock_filter> with_clone_guard(std::vector<sock_filter> prog, const std::vector<CloneSyscall>& clones) {
  if (clones.empty()) return prog;
  std::vector<sock_filter> tail;
  auto emit = [&](uint16_t code, uint8_t jt, uint8_t jf, uint32_t k) { tail.push_back({code, jt, jf, k}); };
  // Per audit arch: load nr, compare with each of its clone numbers.
  std::vector<uint32_t> audits;
  for (const auto& c : clones)
    if (std::find(audits.begin(), audits.end(), c.audit_arch) == audits.end()) audits.push_back(c.audit_arch);
  // Layout: [arch checks][per arch: ld nr; jeq...; ja allow][per clone entry: flag test][trace][allow]
  // Built with placeholder targets, fixed below.
  struct Fix {
    size_t at;
    int t, f;  // targets as labels: -1 fall through
  };
  std::vector<Fix> fixes;
  std::vector<int> labels;
  auto new_label = [&] {
    labels.push_back(-1);
    return static_cast<int>(labels.size()) - 1;
  };
  const int trace = new_label(), allow = new_label();
  std::vector<int> arch_label, clone_label;
  for (size_t i = 0; i < audits.size(); ++i) arch_label.push_back(new_label());
  for (size_t i = 0; i < clones.size(); ++i) clone_label.push_back(new_label());
  auto jump_if = [&](uint16_t op, uint32_t k, int t, int f) {
    fixes.push_back({tail.size(), t, f});
    emit(static_cast<uint16_t>(BPF_JMP | op | BPF_K), 0, 0, k);
  };
  auto jump = [&](int label) {
    fixes.push_back({tail.size(), label, -2});
    emit(BPF_JMP | BPF_JA, 0, 0, 0);
  };
  emit(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(seccomp_data, arch));
  for (size_t i = 0; i < audits.size(); ++i) jump_if(BPF_JEQ, audits[i], arch_label[i], -1);
  jump(allow);
  for (size_t i = 0; i < audits.size(); ++i) {
    labels[arch_label[i]] = static_cast<int>(tail.size());
    emit(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(seccomp_data, nr));
    for (size_t j = 0; j < clones.size(); ++j)
      if (clones[j].audit_arch == audits[i])
        jump_if(BPF_JEQ, static_cast<uint32_t>(clones[j].nr), clones[j].clone3 ? trace : clone_label[j], -1);
    jump(allow);
  }
  for (size_t j = 0; j < clones.size(); ++j) {
    labels[clone_label[j]] = static_cast<int>(tail.size());
    if (clones[j].clone3) continue;
    // The low half of the flags argument holds CLONE_UNTRACED (little or
    // big endian, as seccomp_data lays out the 64-bit value).
    const uint32_t low = offsetof(seccomp_data, args) + 8 * clones[j].flags_arg +
                         (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 4);
    emit(BPF_LD | BPF_W | BPF_ABS, 0, 0, low);
    jump_if(BPF_JSET, CLONE_UNTRACED, trace, allow);
  }
  labels[trace] = static_cast<int>(tail.size());
  emit(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE | kCloneGuardData);
  labels[allow] = static_cast<int>(tail.size());
  emit(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
  for (const auto& f : fixes) {
    sock_filter& insn = tail[f.at];
    auto dist = [&](int label) { return static_cast<uint32_t>(labels[label] - static_cast<int>(f.at) - 1); };
    if (f.f == -2) {
      insn.k = dist(f.t);
      continue;
    }
    insn.jt = static_cast<uint8_t>(f.t < 0 ? 0 : dist(f.t));
    insn.jf = static_cast<uint8_t>(f.f < 0 ? 0 : dist(f.f));
  }
  const size_t start = prog.size();
  for (size_t i = 0; i < start; ++i)
    if (prog[i].code == (BPF_RET | BPF_K) && prog[i].k == SECCOMP_RET_ALLOW)
      prog[i] = BPF_JUMP(BPF_JMP | BPF_JA, static_cast<uint32_t>(start - i - 1), 0, 0);
  prog.insert(prog.end(), tail.begin(), tail.end());
  return prog;
}

}  // namespace

SysIface& real_sys() {
  static RealSys sys;
  return sys;
}

// ---------------------------------------------------------------------------
// PtraceEngine

PtraceEngine::PtraceEngine(SysIface& sys, EventSink& sink, pid_t initial_pid, Mode mode,
                           std::optional<int> deny_errno)
    : sys_(sys),
      sink_(sink),
      initial_pid_(initial_pid),
      mode_(mode),
      deny_errno_(mode == Mode::watch ? deny_errno : std::nullopt),
      native_arch_(arch::native()),
      clone_syscalls_(clone_syscalls()) {
  for (const auto& c : clone_syscalls_) clone_hint_[static_cast<uint32_t>(c.nr) % clone_hint_.size()] = true;
  add_task(initial_pid, initial_pid);
}

PtraceEngine::Task* PtraceEngine::find(pid_t tid) {
  if (tid == last_tid_ && last_task_ != nullptr) return last_task_;
  auto it = tasks_.find(tid);
  if (it == tasks_.end()) return nullptr;
  last_tid_ = tid;
  last_task_ = &it->second;  // unordered_map nodes stay put until erased
  return last_task_;
}

PtraceEngine::Task& PtraceEngine::add_task(pid_t tid, pid_t tgid) {
  auto [it, inserted] = tasks_.try_emplace(tid);
  if (inserted) it->second.tgid = tgid;
  // A process created while we are killing everything must not outlive us.
  if (killing_) sys_.kill(tid, SIGKILL);
  return it->second;
}

void PtraceEngine::erase(pid_t tid) {
  if (tid == last_tid_) last_task_ = nullptr;
  tasks_.erase(tid);
}

void PtraceEngine::emit_pending(Task& t) {
  if (!t.pending) return;
  t.pending = false;
  t.ev.result.reset();
  if (reporting()) sink_.on_syscall(t.ev);
}

void PtraceEngine::resume(pid_t tid, int sig) {
  int request = PTRACE_SYSCALL;
  if (mode_ != Mode::two_stop) {
    // A task waiting for an exit stop keeps PTRACE_SYSCALL through every
    // stop in between (fork/exec events, the exec'd image's first stop):
    // PTRACE_CONT would clear the syscall-exit trap and lose the result.
    const Task* t = find(tid);
    const bool wants_exit = t != nullptr && (t->pending || t->errno_at_exit != 0);
    request = wants_exit ? PTRACE_SYSCALL : PTRACE_CONT;
  }
  // ESRCH: the task was SIGKILLed (its death will be reported) or silently
  // released by another thread's execve (the PTRACE_EVENT_EXEC says so).
  (void)sys_.resume(request, tid, sig);
}

void PtraceEngine::handle_batch(std::vector<std::pair<pid_t, int>>& batch) {
  if (ends_with_initial_ && !life_over_) {
    // The first process's death goes first. A process it leaves behind is
    // re-parented in the same step (exit_notify, under tasklist_lock) that
    // makes that death waitable, so whatever it does once it could notice is
    // reported with the death or later, and is left out: in a container the
    // kernel kills the rest of the PID namespace before re-parenting
    // anything. The other reports of the batch are concurrent with the death
    // (their tasks wait at a stop), so taking the death first is an order
    // the kernel could have given them.
    std::stable_partition(batch.begin(), batch.end(), [&](const std::pair<pid_t, int>& r) {
      return r.first == initial_pid_ && (WIFEXITED(r.second) || WIFSIGNALED(r.second));
    });
  }
  for (const auto& [tid, st] : batch) handle(tid, st);
}

void PtraceEngine::handle(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    on_death(tid, status);
    return;
  }
  if (!WIFSTOPPED(status)) return;
  Task* t = find(tid);
  if (t == nullptr) {
    // A new task's first stop can be reported before the fork/clone event of
    // its creator: the kernel queues both and waitpid picks either first.
    pid_t tgid = sys_.tgid_of(tid);
    t = &add_task(tid, tgid > 0 ? tgid : tid);
    seen_early_.insert(tid);
  }
  on_stop(tid, *t, status);
}

void PtraceEngine::on_stop(pid_t tid, Task& t, int status) {
  const int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) {  // PTRACE_O_TRACESYSGOOD: a syscall stop
    on_syscall_stop(tid, t);
    resume(tid);
    return;
  }
  switch (static_cast<unsigned>(status) >> 16) {
    case 0:  // signal-delivery-stop: deliver the signal the tracee was getting
      resume(tid, sig);
      return;
    case PTRACE_EVENT_SECCOMP:
      on_syscall_stop(tid, t);
      resume(tid);
      return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
      on_new_task(tid, t, static_cast<int>(static_cast<unsigned>(status) >> 16));
      resume(tid);
      return;
    case PTRACE_EVENT_EXEC:
      on_exec(tid);  // may replace t
      resume(tid);
      return;
    case PTRACE_EVENT_STOP:
      // SIGTRAP: PTRACE_INTERRUPT, an auto-attached child's first stop, or the
      // end of a group-stop we listened to. Any other signal: a group-stop;
      // PTRACE_LISTEN keeps the tracee stopped (so SIGSTOP really stops it)
      // while letting SIGCONT or SIGKILL end the stop.
      if (sig == SIGTRAP) {
        resume(tid);
      } else if (int err = sys_.resume(PTRACE_LISTEN, tid, 0); err != 0 && err != ESRCH) {
        resume(tid);
      }
      return;
    default:  // an event we did not ask for: never leave a tracee stopped
      resume(tid);
      return;
  }
}

void PtraceEngine::on_syscall_stop(pid_t tid, Task& t) {
  __ptrace_syscall_info info{};
  if (sys_.syscall_info(tid, info) != 0) return;
  refuse_self_attack(tid, t, info);
  switch (mode_) {
    case Mode::two_stop: two_stop_info(tid, t, info); return;
    case Mode::one_stop: one_stop_info(tid, t, info); return;
    case Mode::watch: watch_info(tid, t, info); return;
  }
}

void PtraceEngine::take_entry(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  // entry and seccomp share their layout for nr and args.
  t.ev.tid = tid;
  t.ev.pid = t.tgid;
  t.ev.audit_arch = info.arch;
  t.ev.nr = static_cast<int32_t>(info.entry.nr);
  for (size_t i = 0; i < 6; ++i) t.ev.args[i] = info.entry.args[i];
  t.ev.ip = info.instruction_pointer;
  t.ev.result.reset();
  // Everything before the launcher's execve (the start barrier, the filter
  // install) belongs to sctrace, not to the workload.
  if (!started_ && tid == initial_pid_ && info.arch == native_arch_ && t.ev.nr == SYS_execve) started_ = true;
}

void PtraceEngine::two_stop_info(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  switch (info.op) {
    case PTRACE_SYSCALL_INFO_ENTRY:
    case PTRACE_SYSCALL_INFO_SECCOMP:
      // A seccomp stop (SECCOMP_RET_TRACE) follows the entry stop of the same
      // syscall and carries the same number and arguments: it refreshes the
      // pending entry. Two entries in a row mean the exit of the first was
      // lost (never expected): deliver it without a result.
      if (info.op == PTRACE_SYSCALL_INFO_ENTRY) emit_pending(t);
      keep_child_traced(tid, t, info);
      take_entry(tid, t, info);
      t.pending = true;
      return;
    case PTRACE_SYSCALL_INFO_EXIT:
      if (const int skipped = t.errno_at_exit; answer_at_exit(tid, t, info)) {
        if (!t.pending) return;
        t.pending = false;
        t.ev.result = -skipped;  // clone3 with CLONE_UNTRACED, a call aimed at the tracer
        if (reporting()) sink_.on_syscall(t.ev);
        return;
      }
      if (!t.pending) return;  // e.g. the barrier read we interrupted at attach
      t.pending = false;
      t.ev.result = info.exit.rval;
      if (reporting()) sink_.on_syscall(t.ev);
      return;
    default:
      return;
  }
}

bool PtraceEngine::result_wanted(uint32_t audit_arch, int32_t nr) const {
  if (audit_arch == native_arch_ && nr >= 0 && static_cast<size_t>(nr) < ok_native_.size())
    return !ok_native_[static_cast<size_t>(nr)];
  if (audit_arch == native_arch_ && nr >= 0 && nr < 4096) return true;
  return ok_other_.count((static_cast<uint64_t>(audit_arch) << 32) | static_cast<uint32_t>(nr)) == 0;
}

void PtraceEngine::note_success(uint32_t audit_arch, int32_t nr) {
  if (audit_arch == native_arch_ && nr >= 0 && nr < 4096) {
    if (static_cast<size_t>(nr) >= ok_native_.size()) ok_native_.resize(static_cast<size_t>(nr) + 1, false);
    ok_native_[static_cast<size_t>(nr)] = true;
    return;
  }
  ok_other_.insert((static_cast<uint64_t>(audit_arch) << 32) | static_cast<uint32_t>(nr));
}

void PtraceEngine::one_stop_info(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  switch (info.op) {
    case PTRACE_SYSCALL_INFO_SECCOMP:
      emit_pending(t);  // its exit stop never came (not expected)
      keep_child_traced(tid, t, info);
      take_entry(tid, t, info);
      t.ev_current = true;
      if (!reporting()) return;
      if (result_wanted(t.ev.audit_arch, t.ev.nr)) {
        t.pending = true;  // resume() asks for the exit stop
        return;
      }
      sink_.on_syscall(t.ev);
      return;
    case PTRACE_SYSCALL_INFO_EXIT: {
      const int skipped = t.errno_at_exit;
      const bool answered = answer_at_exit(tid, t, info);
      if (!t.pending) return;
      t.pending = false;
      t.ev.result = answered ? -skipped : info.exit.rval;  // clone3 with CLONE_UNTRACED, a call aimed at the tracer
      // The kernel's error range is -4095..-1; anything else is a success.
      if (*t.ev.result >= 0 || *t.ev.result < -4095) note_success(t.ev.audit_arch, t.ev.nr);
      sink_.on_syscall(t.ev);
      return;
    }
    case PTRACE_SYSCALL_INFO_ENTRY:
      // Only if a task asked for an exit stop never got it and went on to
      // its next syscall; the seccomp stop that follows reports that one.
      emit_pending(t);
      return;
    default:
      return;
  }
}

void PtraceEngine::watch_info(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  switch (info.op) {
    case PTRACE_SYSCALL_INFO_SECCOMP:
      // A clone the profile allows, stopped only to keep its child traced.
      if ((info.seccomp.ret_data & SECCOMP_RET_DATA) == kCloneGuardData) {
        keep_child_traced(tid, t, info);
        return;
      }
      // A self-defence call the profile lets run, marked so by the program:
      // refuse_self_attack has judged it already.
      if ((info.seccomp.ret_data & SECCOMP_RET_DATA) == kSelfDefenceData) return;
      take_entry(tid, t, info);
      if (!reporting()) return;
      // A self-defence call the profile lets run: refuse_self_attack has
      // judged it already.
      if (watch_lets_run_ && watch_lets_run_(t.ev)) return;
      if (!deny_errno_) keep_child_traced(tid, t, info);
      if (deny_errno_) t.ev.result = -static_cast<int64_t>(*deny_errno_);
      sink_.on_syscall(t.ev);
      if (deny_errno_) deny(tid, t, info);
      return;
    case PTRACE_SYSCALL_INFO_EXIT:
      answer_at_exit(tid, t, info);
      return;
    default:
      return;
  }
}

void PtraceEngine::deny(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  if (!skip(tid, t, info, *deny_errno_)) {
    deny_failed_ = true;
    kill_all();
  }
}

// What PTRACE_SET_SYSCALL_INFO needs to change a syscall at an entry or
// seccomp stop: the stop's own fields (entry and seccomp share the layout of
// nr and args), to be edited by the caller.
static __ptrace_syscall_info entry_info_like(const __ptrace_syscall_info& info) {
  __ptrace_syscall_info set{};
  set.op = info.op;
  set.arch = info.arch;
  set.instruction_pointer = info.instruction_pointer;
  set.stack_pointer = info.stack_pointer;
  set.entry.nr = info.entry.nr;
  for (size_t i = 0; i < 6; ++i) set.entry.args[i] = info.entry.args[i];
  if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) set.seccomp.ret_data = info.seccomp.ret_data;
  return set;
}

bool PtraceEngine::skip(pid_t tid, Task& t, const __ptrace_syscall_info& info, int err) {
  // Number -1 at a seccomp stop: the kernel skips the syscall (it also does
  // not re-run the filters). Its return value is then whatever the return
  // register holds, set at the exit stop where PTRACE_SET_SYSCALL_INFO can do
  // it for every arch. At an entry stop (two_stop) the kernel runs the
  // seccomp filters after the stop, with number -1: a filter above sctrace
  // (an outer `sctrace enforce`, a container's profile) then answers for the
  // skipped syscall and overwrites the return register, so the answer is set
  // again at the exit stop in every case.
  if (set_info_works_) {
    __ptrace_syscall_info set = entry_info_like(info);
    set.entry.nr = static_cast<uint64_t>(-1);  // sign-extended, as the kernel checks
    const int e = sys_.set_syscall_info(tid, set);
    if (e == 0) {
      t.errno_at_exit = err;
      return true;
    }
    if (e == ESRCH) return true;
    if (e == EIO) set_info_works_ = false;  // Linux < 6.16: unknown request
  }
  const int e = sys_.skip_syscall(tid, -static_cast<int64_t>(err));
  if (e == ESRCH) return true;
  if (e != 0) return false;
  if (info.op == PTRACE_SYSCALL_INFO_ENTRY) t.errno_at_exit = err;
  return true;
}

bool PtraceEngine::answer_at_exit(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  if (t.errno_at_exit == 0) return false;
  const int err = t.errno_at_exit;
  t.errno_at_exit = 0;
  int e = 0;
  if (set_info_works_) {
    __ptrace_syscall_info set{};
    set.op = PTRACE_SYSCALL_INFO_EXIT;
    set.arch = info.arch;
    set.instruction_pointer = info.instruction_pointer;
    set.stack_pointer = info.stack_pointer;
    set.exit.rval = -static_cast<int64_t>(err);
    set.exit.is_error = 1;
    e = sys_.set_syscall_info(tid, set);
    if (e == EIO) set_info_works_ = false;
  }
  if (!set_info_works_) e = sys_.skip_syscall(tid, -static_cast<int64_t>(err));
  if (e != 0 && e != ESRCH) {
    // The syscall was skipped but another answer would show: better dead.
    (deny_errno_ && err == *deny_errno_ ? deny_failed_ : untraced_failed_) = true;
    kill_all();
  }
  return true;
}

// CLONE_UNTRACED tells the kernel not to hand the new task to the parent's
// tracer (it exists for kernel threads). A workload that sets it would run a
// child nobody records: under two_stop it runs free, under one_stop it
// inherits the SECCOMP_RET_TRACE filter with no tracer, so each of its
// syscalls fails with ENOSYS, unrecorded. Like strace, the flag is cleared
// before the kernel reads it:
//  - clone: the flags are a register of the stopped task, rewritten here at
//    the entry or seccomp stop (after a seccomp stop the kernel runs the
//    syscall with the registers as the tracer left them);
//  - clone3: the flags are in the tracee's memory (struct clone_args), which
//    another thread of the workload can change again between our write and
//    the kernel's copy. So clone3 with the flag is answered ENOSYS, as
//    Docker's default profile answers every clone3: libc then falls back to
//    clone, whose flags we can rewrite without a race. (A thread racing to
//    set the flag after our read gets, under one_stop, a child whose every
//    syscall fails; it gains nothing it could not have by not forking.)
void PtraceEngine::keep_child_traced(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  const auto nr = static_cast<int32_t>(info.entry.nr);  // entry and seccomp share the layout
  // Runs at every stop: one table lookup turns away every other syscall.
  if (!clone_hint_[static_cast<uint32_t>(nr) % clone_hint_.size()]) return;
  const CloneSyscall* which = nullptr;
  for (const auto& c : clone_syscalls_)
    if (c.nr == nr && c.audit_arch == info.arch) {
      which = &c;
      break;
    }
  if (which == nullptr) return;
  if (which->clone3) {
    // Fail closed: a clone_args sctrace cannot read might carry the flag.
    // EFAULT is the one read failure the kernel's own copy would share (it
    // then fails the call itself).
    uint64_t flags = 0;
    const int read_err = sys_.read_u64(tid, info.entry.args[0], flags);
    if (read_err == EFAULT) return;
    if (read_err == 0 && (flags & CLONE_UNTRACED) == 0) return;
    if (!skip(tid, t, info, ENOSYS)) {
      untraced_failed_ = true;
      kill_all();
    }
    return;
  }
  const uint64_t flags = info.entry.args[which->flags_arg];
  if ((flags & CLONE_UNTRACED) == 0) return;
  const uint64_t cleared = flags & ~static_cast<uint64_t>(CLONE_UNTRACED);
  if (set_info_works_) {
    __ptrace_syscall_info set = entry_info_like(info);
    set.entry.args[which->flags_arg] = cleared;
    const int err = sys_.set_syscall_info(tid, set);
    if (err == 0 || err == ESRCH) return;
    if (err == EIO) set_info_works_ = false;  // Linux < 6.16: unknown request
  }
  if (int err = sys_.set_syscall_arg(tid, info.arch, which->flags_arg, cleared); err != 0 && err != ESRCH) {
    untraced_failed_ = true;
    kill_all();
  }
}

void PtraceEngine::refuse_self_attack(pid_t tid, Task& t, const __ptrace_syscall_info& info) {
  if (info.op != PTRACE_SYSCALL_INFO_ENTRY && info.op != PTRACE_SYSCALL_INFO_SECCOMP) return;
  if (!started_ && tid == initial_pid_) return;  // the launcher is sctrace's own code
  SyscallEvent ev;  // entry and seccomp share the layout of nr and args
  ev.tid = tid;
  ev.pid = t.tgid;
  ev.audit_arch = info.arch;
  ev.nr = static_cast<int32_t>(info.entry.nr);
  for (size_t i = 0; i < 6; ++i) ev.args[i] = info.entry.args[i];
  const std::optional<std::string> note = self_defence_.check(ev);
  if (!note) return;
  // Unrefusable (no PTRACE_SET_SYSCALL_INFO, no register layout): the
  // workload would stop or read its tracer, so it does not go on at all.
  if (!skip(tid, t, info, EPERM)) {
    untraced_failed_ = true;
    kill_all();
    return;
  }
  sink_.on_refusal(*note);
}

pid_t PtraceEngine::tgid_of_clone(pid_t parent_tid, Task& parent, pid_t new_tid) {
  // PTRACE_EVENT_CLONE covers threads and processes with an unusual exit
  // signal alike; the creating syscall's flags tell them apart for free when
  // the parent's current syscall is known (not in watch mode).
  const bool current = mode_ == Mode::two_stop ? parent.pending : mode_ == Mode::one_stop && parent.ev_current;
  if (current && parent.ev.audit_arch == native_arch_) {
    uint64_t flags = 0;
    bool known = false;
    if (parent.ev.nr == SYS_clone) {
      flags = parent.ev.args[0];
      known = true;
    } else if (parent.ev.nr == SYS_clone3) {
      known = sys_.read_u64(parent_tid, parent.ev.args[0], flags) == 0;  // clone_args.flags
    }
    if (known) return (flags & CLONE_THREAD) != 0 ? parent.tgid : new_tid;
  }
  pid_t tgid = sys_.tgid_of(new_tid);
  return tgid > 0 ? tgid : new_tid;
}

void PtraceEngine::on_new_task(pid_t parent_tid, Task& parent, int event) {
  unsigned long msg = 0;
  if (sys_.event_msg(parent_tid, msg) != 0) return;
  const auto child = static_cast<pid_t>(msg);
  if (child <= 0) return;
  if (seen_early_.erase(child) != 0) return;  // registered (or dead) already
  if (find(child) != nullptr) return;
  pid_t tgid = event == PTRACE_EVENT_CLONE ? tgid_of_clone(parent_tid, parent, child) : child;
  // Its first stop (PTRACE_EVENT_STOP with SIGTRAP) comes later; on_stop
  // resumes it like any PTRACE_INTERRUPT stop.
  add_task(child, tgid);
}

void PtraceEngine::on_exec(pid_t tid) {
  // The exec'ing thread takes over the thread-group leader's tid; the event
  // is reported under the new tid and the message is the former one. The old
  // leader is released silently: no death is reported for it.
  unsigned long msg = 0;
  pid_t former = tid;
  if (sys_.event_msg(tid, msg) == 0 && msg != 0) former = static_cast<pid_t>(msg);
  if (former != tid) {
    if (Task* leader = find(tid)) {
      emit_pending(*leader);
      erase(tid);
    }
    if (Task* from = find(former)) {
      Task moved = *from;
      erase(former);
      moved.ev.tid = tid;
      tasks_.emplace(tid, moved);
    }
  }
  Task& t = add_task(tid, tid);
  t.tgid = tid;
  t.ev.pid = tid;
  if (tid == initial_pid_ && !exec_done_) {
    exec_done_ = true;
    // watch: the launcher's execve stops only when the filter watches it.
    started_ = true;
    // watch: nothing needs the workload's own execs (a violation report reads
    // /proc/PID/exe), and each cost a stop: a quarter of the stops of every
    // spawned process. The launcher was seized, so without the event an exec
    // raises no SIGTRAP either; everything it creates from now on inherits
    // the options. A non-leader thread's exec then retires its old tid
    // unannounced: on_death drops such leftovers with their thread group.
    if (mode_ == Mode::watch) (void)sys_.set_options(tid, kPtraceOptions & ~PTRACE_O_TRACEEXEC);
  }
  if (reporting()) sink_.on_exec(tid, sys_.exe_of(tid));
}

void PtraceEngine::on_death(pid_t tid, int status) {
  if (tid == initial_pid_) initial_status_ = status;
  Task* t = find(tid);
  if (t == nullptr) {
    // Died before its creator's fork/clone event was handled (or not ours).
    seen_early_.insert(tid);
    return;
  }
  emit_pending(*t);
  const pid_t tgid = t->tgid;
  erase(tid);
  // A leader's death is reported only once its whole thread group is gone.
  if (tid != tgid) return;
  // Any task still filed under it is a tid retired by an exec we were not
  // told about (watch mode).
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const pid_t stale = it->first;
    const bool same_group = it->second.tgid == tgid;
    ++it;  // erase() invalidates only the erased element
    if (same_group) erase(stale);
  }
  sink_.on_exit(tgid, status);
  if (tgid == initial_pid_ && ends_with_initial_) end_life();
}

void PtraceEngine::end_life() {
  // Syscalls entered before the end and still waiting for their result
  // belong to the life.
  for (auto& [tid, t] : tasks_) emit_pending(t);
  life_over_ = true;
  kill_all();
}

void PtraceEngine::finish() {
  for (auto& [tid, t] : tasks_) emit_pending(t);
  tasks_.clear();
  last_task_ = nullptr;
}

void PtraceEngine::kill_all() {
  killing_ = true;
  std::unordered_set<pid_t> groups;
  for (const auto& [tid, t] : tasks_)
    if (groups.insert(t.tgid).second) sys_.kill(t.tgid, SIGKILL);
}

void PtraceEngine::signal_workload(int sig) {
  if (!initial_status_) {
    sys_.kill(initial_pid_, sig);
    return;
  }
  // The first process is gone (daemonized children keep the run going): the
  // signal goes to what is left. These pids cannot have been reused: a
  // tracee's pid stays taken until we reap it.
  std::unordered_set<pid_t> groups;
  for (const auto& [tid, t] : tasks_)
    if (groups.insert(t.tgid).second) sys_.kill(t.tgid, sig);
}

// ---------------------------------------------------------------------------
// The tracer: launch, attach, wait loop, deadline and interrupts.

namespace {

volatile sig_atomic_t g_tick = 0;
extern "C" void on_tick(int) { g_tick = 1; }

// A periodic SIGALRM aimed at this thread while the wait loop runs. waitpid()
// blocks with nothing to wake it when the workload is idle; the tick (no
// SA_RESTART) makes it return EINTR so the deadline is checked, and it also
// covers a Ctrl-C that lands between our interrupt check and waitpid().
class Ticker {
 public:
  explicit Ticker(std::chrono::milliseconds period) {
    struct sigaction sa {};
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ::sigaction(SIGALRM, &sa, &old_action_);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    ::pthread_sigmask(SIG_UNBLOCK, &alrm, &old_mask_);
    sigevent sev{};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = static_cast<pid_t>(::gettid());
    if (::timer_create(CLOCK_MONOTONIC, &sev, &timer_) != 0) return;
    armed_ = true;
    itimerspec its{};
    its.it_value.tv_sec = period.count() / 1000;
    its.it_value.tv_nsec = (period.count() % 1000) * 1000000;
    its.it_interval = its.it_value;
    ::timer_settime(timer_, 0, &its, nullptr);
  }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker() {
    if (armed_) ::timer_delete(timer_);
    // Ignoring discards a tick still pending, which the previous disposition
    // (often SIG_DFL: terminate) must never see.
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGALRM, &ign, nullptr);
    ::sigaction(SIGALRM, &old_action_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    g_tick = 0;
  }

 private:
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
  timer_t timer_{};
  bool armed_ = false;
};

bool has_effective_cap(int cap) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

// Installing a seccomp filter takes CAP_SYS_ADMIN (in sctrace's user
// namespace) or no_new_privs. Without CAP_SYS_PTRACE, no_new_privs costs the
// workload nothing: the kernel already ignores setuid bits and file
// capabilities on exec under a tracer that lacks it (LSM_UNSAFE_PTRACE), the
// case of the in-container sensor under Docker's default capabilities.
bool filter_needs_nnp(const LaunchSpec& spec) { return !spec.no_new_privs && !has_effective_cap(CAP_SYS_ADMIN); }

PtraceEngine::Mode resolve_mode(PtraceStops stops, const LaunchSpec& spec) {
  // watch_filter decides what stops, whatever the choice of stops.
  if (spec.watch_filter) return PtraceEngine::Mode::watch;
  switch (stops) {
    case PtraceStops::one: return PtraceEngine::Mode::one_stop;
    case PtraceStops::two: return PtraceEngine::Mode::two_stop;
    case PtraceStops::automatic: break;
  }
  // One stop per syscall is the faster (bench/README.md), unless its filter
  // would have to come with a no_new_privs that changes what a privileged
  // workload may do, or the kernel has no seccomp filters at all.
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) return PtraceEngine::Mode::two_stop;
  if (filter_needs_nnp(spec) && has_effective_cap(CAP_SYS_PTRACE)) return PtraceEngine::Mode::two_stop;
  return PtraceEngine::Mode::one_stop;
}

class PtraceTracer final : public Tracer {
 public:
  explicit PtraceTracer(PtraceStops stops) : stops_(stops) {}
  TracerCaps caps() const override {
    TracerCaps c;
    c.results = true;
    c.follows_children = true;
    c.sees_pre_exec = false;
    c.stopped_in_sink = true;
    return c;
  }
  ExitStatus run(const LaunchSpec& spec, EventSink& sink) override;

 private:
  PtraceStops stops_;
};

// Kills and reaps every tracee if run() leaves by an exception (a throwing
// sink), so nothing stays stopped behind us. The sink is not called again:
// stops are only answered with SIGKILL (a child forked just before the kill
// sits in its first stop) until no tracee is left.
struct KillOnUnwind {
  PtraceEngine& engine;
  bool armed = true;
  ~KillOnUnwind() {
    if (!armed) return;
    engine.kill_all();
    int st;
    for (;;) {
      const pid_t tid = ::waitpid(-1, &st, __WALL);
      if (tid < 0 && errno != EINTR) break;
      if (tid > 0 && WIFSTOPPED(st)) ::kill(tid, SIGKILL);
    }
  }
};

ExitStatus PtraceTracer::run(const LaunchSpec& spec, EventSink& sink) {
  if (spec.argv.empty()) fail(ErrorKind::usage, "no command given");
  // Interrupts from here on are about this run (one arriving while the child
  // is being attached is acted on as soon as the wait loop starts).
  if (spec.deny_errno && !spec.watch_filter)
    fail(ErrorKind::usage, "deny_errno without a watch_filter would fail every syscall");
  if (spec.deny_errno && (*spec.deny_errno <= 0 || *spec.deny_errno > 4095))
    fail(ErrorKind::usage, "deny_errno {} is not an errno value", *spec.deny_errno);
  InterruptFeed interrupts;
  const PtraceEngine::Mode mode = resolve_mode(stops_, spec);
  ChildOptions opts;
  opts.wait_for_release = true;
  opts.no_new_privs = spec.no_new_privs;
  if (!spec.seccomp_filter.empty()) opts.filter = &spec.seccomp_filter;
  // Installed after spec.seccomp_filter. Actions of higher precedence than
  // TRACE (KILL, TRAP, ERRNO, USER_NOTIF) from that filter, or from a
  // container runtime's profile sctrace runs under, win: such syscalls never
  // stop in one_stop or watch mode (two_stop sees their entry and the error).
  std::vector<sock_filter> trace_filter;
  if (mode == PtraceEngine::Mode::watch) {
    trace_filter = spec.watch_filter(SECCOMP_RET_TRACE);
    if (!trace_filter.empty()) trace_filter = with_clone_guard(std::move(trace_filter), clone_syscalls());
    if (trace_filter.empty() || trace_filter.size() > BPF_MAXINSNS)
      fail(ErrorKind::usage, "the watch filter has {} instructions (1 to {})", trace_filter.size(), BPF_MAXINSNS);
  } else if (mode == PtraceEngine::Mode::one_stop) {
    // The same answer for every arch and ABI (int 0x80 and x32 included).
    trace_filter = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)};
  }
  if (!trace_filter.empty()) {
    opts.trace_filter = &trace_filter;
    if (filter_needs_nnp(spec)) opts.no_new_privs = true;
  }
  ChildProcess child = ChildProcess::spawn(spec.argv, opts);
  const pid_t pid = child.pid();

  // The child is blocked on its start barrier. Seize it, stop it and restart
  // it (two_stop: with PTRACE_SYSCALL, so its execve entry is already traced;
  // otherwise its filter makes execve stop).
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(static_cast<unsigned long>(kPtraceOptions))) != 0)
    fail_errno(ErrorKind::runtime, errno,
               errno == EPERM ? "ptrace(PTRACE_SEIZE) (is sctrace itself traced, or ptrace restricted by "
                                "kernel.yama.ptrace_scope or a missing CAP_SYS_PTRACE?)"
                              : "ptrace(PTRACE_SEIZE)");
  if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0)
    fail_errno(ErrorKind::runtime, errno, "ptrace(PTRACE_INTERRUPT)");
  int st = 0;
  while (::waitpid(pid, &st, __WALL) < 0)
    if (errno != EINTR) fail_errno(ErrorKind::runtime, errno, "waitpid");
  if (!WIFSTOPPED(st)) {
    child.mark_reaped();
    fail(ErrorKind::runtime, "the command's process died before it could be traced");
  }
  const auto first_resume = mode == PtraceEngine::Mode::two_stop ? PTRACE_SYSCALL : PTRACE_CONT;
  if (::ptrace(first_resume, pid, nullptr, nullptr) != 0) fail_errno(ErrorKind::runtime, errno, "ptrace(resume)");

  PtraceEngine engine(real_sys(), sink, pid, mode, spec.deny_errno);
  engine.set_ends_with_initial(spec.ends_with_first_process);
  if (mode == PtraceEngine::Mode::watch) engine.set_watch_lets_run(spec.watch_lets_run);
  KillOnUnwind guard{engine};
  const bool has_deadline = spec.timeout.count() > 0;
  SupervisorConfig config;
  if (has_deadline) config.deadline = std::chrono::steady_clock::now() + spec.timeout;
  Supervisor supervisor(config);
  // signal_workload reaches the first process while it lives, else every
  // process left: the supervisor learns of the first one's end from the
  // same engine, so the two agree.
  auto act = [&](const SupervisorActions& a) {
    if (a.signal_leader != 0) engine.signal_workload(a.signal_leader);
    if (a.signal_rest != 0) engine.signal_workload(a.signal_rest);
    if (a.kill_all) engine.kill_all();
  };
  auto check = [&] {
    const auto now = std::chrono::steady_clock::now();
    // The first process's end first: a signal arriving after it goes
    // straight to the rest, and only once.
    SupervisorActions a;
    if (engine.initial_status()) a |= supervisor.on_leader_exit(*engine.initial_status());
    a |= interrupts.poll(supervisor, now);
    a |= supervisor.on_time(now);
    act(a);
  };

  {
    Ticker ticker(std::chrono::milliseconds(has_deadline && spec.timeout.count() < 100 ? 10 : 100));
    std::vector<std::pair<pid_t, int>> batch;
    child.release();
    check();
    while (!engine.done()) {
      if (g_tick != 0) {
        g_tick = 0;
        check();
      }
      const pid_t tid = ::waitpid(-1, &st, __WALL);
      if (tid < 0) {
        if (errno == EINTR) {
          check();
          continue;
        }
        break;  // ECHILD: no tracee is left, whatever we still believe
      }
      if (engine.task_count() <= 1) {
        engine.handle(tid, st);
        continue;
      }
      // waitpid(-1) always scans tracees in the same order, so a busy task
      // early in the list would be picked again and again while others wait
      // stopped (a thread spinning on sched_yield for a flag another thread
      // sets crawls). Take every report that is ready, then answer them all.
      batch.clear();
      batch.emplace_back(tid, st);
      for (pid_t more; (more = ::waitpid(-1, &st, __WALL | WNOHANG)) > 0;) batch.emplace_back(more, st);
      engine.handle_batch(batch);
    }
    supervisor.on_workload_exit();
  }
  guard.armed = false;
  engine.finish();
  if (engine.deny_failed())
    fail(ErrorKind::runtime,
         "could not make a watched syscall fail (needs PTRACE_SET_SYSCALL_INFO, Linux 6.16+, or x86_64): "
         "the workload was killed");

  if (engine.untraced_failed())
    fail(ErrorKind::runtime,
         "could not keep a CLONE_UNTRACED child traced (needs PTRACE_SET_SYSCALL_INFO, Linux 6.16+, or x86_64): "
         "the workload was killed");

  if (engine.initial_status()) child.mark_reaped();
  if (!engine.exec_done()) {
    if (int e = child.setup_errno(); e != 0) {
      if (!engine.started())
        fail(ErrorKind::runtime, "{}: could not prepare the process: {}", spec.argv[0], std::strerror(e));
      fail(e == ENOENT ? ErrorKind::not_found : ErrorKind::not_exec, "{}: {}", spec.argv[0], std::strerror(e));
    }
  }
  ExitStatus result;
  if (engine.initial_status()) {
    result = exit_status_from_wait(*engine.initial_status());
  } else {  // never seen to die (not expected): report it as killed
    result.signaled = true;
    result.signal = SIGKILL;
  }
  result.timed_out = supervisor.outcome().timed_out;
  result.killed_on_interrupt = supervisor.outcome().killed && !result.timed_out;
  return result;
}

}  // namespace

std::unique_ptr<Tracer> make_ptrace_tracer(PtraceStops stops) { return std::make_unique<PtraceTracer>(stops); }

PtraceStops ptrace_stops_from_name(std::string_view name) {
  if (name == "auto") return PtraceStops::automatic;
  if (name == "one") return PtraceStops::one;
  if (name == "two") return PtraceStops::two;
  fail(ErrorKind::usage, "unknown --ptrace-stops '{}' (auto, one or two)", name);
}

}  // namespace sctrace
