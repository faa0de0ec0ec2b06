#pragma once
// The glue between observing and deciding: an EventSink that folds events
// into a Recording. Header-only so that profile/ stays free of tracer/.
#include <mutex>

#include "profile/recorder.h"
#include "tracer/tracer.h"

namespace sctrace {

class RecordingSink : public EventSink {
 public:
  explicit RecordingSink(Recording& rec) : rec_(rec), recorder_(rec) {}

  void on_syscall(const SyscallEvent& ev) override {
    std::lock_guard lock(mu_);
    recorder_.add_syscall(ev.audit_arch, ev.nr, ev.args, ev.result, ev.pid ? ev.pid : ev.tid);
    ++events_;
  }
  void on_exec(pid_t, std::string_view path) override {
    std::lock_guard lock(mu_);
    recorder_.add_exec(path);
  }
  void on_exit(pid_t, int) override {
    std::lock_guard lock(mu_);
    ++processes_;
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
  std::mutex mu_;  // uncontended except during a flush
  Recording& rec_;
  Recorder recorder_;
  uint64_t events_ = 0;
  uint64_t processes_ = 0;
};

}  // namespace sctrace
