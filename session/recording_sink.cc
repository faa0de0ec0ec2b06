#include "session/recording_sink.h"

#include <limits.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace sctrace {

void RecordingSink::on_syscall(const SyscallEvent& ev) {
  std::lock_guard lock(mu_);
  const pid_t pid = ev.pid ? ev.pid : ev.tid;
  Recorder::ExeId exe = exe_of(pid);
  Recorder::ClassRef ref = recorder_.add_syscall(ev.audit_arch, ev.nr, ev.args, ev.result, pid, exe);
  ++events_;
  if (!unwinder_ || !ref.want_stack) return;
  // The first event of each (syscall, argument class, executable): its call
  // stack. Remote unwinding needs the task stopped under our ptrace; the
  // notify backend only has the ip, and libunwind cannot step a compat
  // (32-bit) task from a 64-bit tracer, so both get the ip's frame alone.
  std::vector<Frame> frames;
  if (attribution_.stopped_in_sink && ev.audit_arch == native_audit_arch_)
    frames = unwinder_->capture(ev.tid, pid, ev.ip);
  else
    frames = unwinder_->locate(pid, ev.ip);
  std::vector<StackFrame> out;
  out.reserve(frames.size());
  for (auto& f : frames)
    out.push_back(StackFrame{std::move(f.module), std::move(f.build_id), std::move(f.function), f.offset,
                             f.module_offset});
  recorder_.add_stack(ref, std::move(out));
}

void RecordingSink::on_exec(pid_t pid, std::string_view path) {
  std::lock_guard lock(mu_);
  recorder_.add_exec(path);
  exes_[pid] = recorder_.intern_exe(path);
}

void RecordingSink::on_exit(pid_t pid, int) {
  std::lock_guard lock(mu_);
  ++processes_;
  exes_.erase(pid);
}

std::string own_listener_note(pid_t pid) {
  return fmt::format("the workload asked for its own seccomp listener (pid {}), which the notify backend cannot give "
                     "it (EBUSY): its error path was recorded",
                     pid);
}

void RecordingSink::on_own_listener(pid_t pid) {
  std::lock_guard lock(mu_);
  if (!own_listener_) own_listener_ = pid;
}

void RecordingSink::on_refusal(std::string_view note) {
  std::lock_guard lock(mu_);
  rec_.add_refusal(std::string(note));
}

Recorder::ExeId RecordingSink::exe_of(pid_t pid) {
  auto it = exes_.find(pid);
  if (it != exes_.end()) return it->second;
  char buf[PATH_MAX];
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  Recorder::ExeId id = n > 0 ? recorder_.intern_exe(std::string_view(buf, static_cast<size_t>(n))) : 0;
  exes_.emplace(pid, id);
  return id;
}

}  // namespace sctrace
