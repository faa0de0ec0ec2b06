#pragma once
// The glue between observing and deciding: an EventSink that folds events
// into a Recording. Lives in session/, above both tracer/ and profile/, so
// neither has to know the other.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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

  void on_syscall(const SyscallEvent& ev) override;
  void on_exec(pid_t pid, std::string_view path) override;
  void on_exit(pid_t pid, int) override;
  void on_refusal(std::string_view note) override;
  void on_own_listener(pid_t pid) override;

  // The first process that asked for a seccomp listener of its own under a
  // notify backend (which cannot give it one): the recording has its EBUSY
  // error path instead of what it does with the listener.
  std::optional<pid_t> own_listener() const {
    std::lock_guard lock(mu_);
    return own_listener_;
  }

  // Runs f(recording) with the recording consistent (used to flush it from
  // another thread while tracing goes on).
  template <typename F>
  auto with_recording(F&& f) {
    std::lock_guard lock(mu_);
    return f(static_cast<const Recording&>(rec_));
  }
  // Under the lock: the sensor's flusher thread asks while the tracer thread
  // is in on_syscall. A reader pays once per flush; an atomic counter would
  // make every event pay a locked increment inside a lock already held.
  uint64_t events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  uint64_t processes() const {
    std::lock_guard lock(mu_);
    return processes_;
  }

 private:
  // The executable of a process, read once per process (and again after it
  // execs): a forked child that did not exec runs its parent's.
  Recorder::ExeId exe_of(pid_t pid);

  mutable std::mutex mu_;  // uncontended except during a flush
  Recording& rec_;
  Recorder recorder_;
  AttributionOptions attribution_;
  std::unique_ptr<Unwinder> unwinder_;
  std::unordered_map<pid_t, Recorder::ExeId> exes_;
  const uint32_t native_audit_arch_ = arch::native();  // libseccomp tokens are the audit arches
  uint64_t events_ = 0;
  uint64_t processes_ = 0;
  std::optional<pid_t> own_listener_;
};

// "the workload asked for its own seccomp listener (pid N), which the notify
// backend cannot give it (EBUSY): its error path was recorded".
std::string own_listener_note(pid_t pid);

// The notify handler of a recording: every notification is recorded and let
// through (SECCOMP_USER_NOTIF_FLAG_CONTINUE). Used with the OCI seccomp agent
// (`run` on podman/runc lines, `calibrate`).
class RecordAll : public NotifyHandler {
 public:
  explicit RecordAll(RecordingSink& sink) : sink_(sink) {}
  NotifyDecision on_notify(const SyscallEvent& ev) override {
    sink_.on_syscall(ev);
    if (asks_for_own_listener(ev)) sink_.on_own_listener(ev.pid ? ev.pid : ev.tid);
    return {true, 0};
  }

 private:
  RecordingSink& sink_;
};

}  // namespace sctrace
