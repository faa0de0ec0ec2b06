#pragma once
// The glue between observing and deciding: an EventSink that folds events
// into a Recording. Header-only so that profile/ stays free of tracer/.
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/arch.h"
#include "profile/recorder.h"
#include "tracer/notify.h"
#include "tracer/tracer.h"
#include "tracer/unwind.h"

namespace sctrace {

// Call-site attribution (tracer/unwind.h).
struct AttributionOptions {
  int stack_depth = 0;          // frames per stack; 0 = none captured
  bool stopped_in_sink = false;  // TracerCaps::stopped_in_sink of the tracer feeding the sink
};

class RecordingSink : public EventSink {
 public:
  explicit RecordingSink(Recording& rec, AttributionOptions attribution = {})
      : rec_(rec), recorder_(rec), attribution_(attribution) {
    if (attribution_.stack_depth > 0) unwinder_ = std::make_unique<Unwinder>(attribution_.stack_depth);
  }

  void on_syscall(const SyscallEvent& ev) override {
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
  void on_exec(pid_t pid, std::string_view path) override {
    std::lock_guard lock(mu_);
    recorder_.add_exec(path);
    exes_[pid] = recorder_.intern_exe(path);
  }
  void on_exit(pid_t pid, int) override {
    std::lock_guard lock(mu_);
    ++processes_;
    exes_.erase(pid);
  }

  // Runs f(recording) with the recording consistent (used to flush it from
  // another thread while tracing goes on).
  template <typename F>
  auto with_recording(F&& f) {
    std::lock_guard lock(mu_);
    return f(static_cast<const Recording&>(rec_));
  }
  uint64_t events() const { return events_; }
  uint64_t processes() const { return processes_; }

 private:
  // The executable of a process, read once per process (and again after it
  // execs): a forked child that did not exec runs its parent's.
  Recorder::ExeId exe_of(pid_t pid) {
    auto it = exes_.find(pid);
    if (it != exes_.end()) return it->second;
    char buf[PATH_MAX];
    std::string link = "/proc/" + std::to_string(pid) + "/exe";
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    Recorder::ExeId id = n > 0 ? recorder_.intern_exe(std::string_view(buf, static_cast<size_t>(n))) : 0;
    exes_.emplace(pid, id);
    return id;
  }

  std::mutex mu_;  // uncontended except during a flush
  Recording& rec_;
  Recorder recorder_;
  AttributionOptions attribution_;
  std::unique_ptr<Unwinder> unwinder_;
  std::unordered_map<pid_t, Recorder::ExeId> exes_;
  const uint32_t native_audit_arch_ = arch::native();  // libseccomp tokens are the audit arches
  uint64_t events_ = 0;
  uint64_t processes_ = 0;
};

// The notify handler of a recording: every notification is recorded and let
// through (SECCOMP_USER_NOTIF_FLAG_CONTINUE). Used with the OCI seccomp agent
// (`run` on podman/runc lines, `calibrate`).
class RecordAll : public NotifyHandler {
 public:
  explicit RecordAll(RecordingSink& sink) : sink_(sink) {}
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    sink_.on_syscall(ev);
    return {true, 0};
  }

 private:
  RecordingSink& sink_;
};

}  // namespace sctrace
