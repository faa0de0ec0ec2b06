#pragma once
// The parts of `sctrace check` that decide and collect, whatever the backend:
// the sink that turns what the watch filter stops on into violations, and the
// OCI agent's handler that runs the profile's watch program on each
// notification. cli/cmd_check.cc turns options into these and writes the
// report.
#include <linux/filter.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profile/seccomp_profile.h"
#include "profile/recording.h"
#include "report/check_report.h"
#include "session/backend.h"
#include "session/agent_container.h"
#include "tracer/notify.h"
#include "tracer/tracer.h"

namespace sctrace {

// The mapping of /proc/PID/maps that holds ip, as "FILE+0xOFFSET" (file
// offset, what addr2line takes), "[anonymous]+0xOFFSET" in anonymous memory,
// or "" when ip is 0 or in no mapping.
std::string call_site(pid_t pid, uint64_t ip);

// Collects what the watch filter reports. Called by one tracer thread at a
// time (the notify backend serializes its supervisors), locked anyway for the
// ptrace backend's helper threads.
class ViolationSink : public EventSink {
 public:
  void on_syscall(const SyscallEvent& ev) override;
  // A call aimed at sctrace, refused (tracer/self_defence.h): said after the
  // run, as `run` says it; not a violation by itself.
  void on_refusal(std::string_view note) override;
  std::vector<CheckViolation> take();
  // The refusal notes, one line each (session/outputs.h say_refusals).
  void say_refusals(const SayFn& say);

 private:
  std::mutex mu_;
  ViolationCollector collector_;
  Recording refusals_;  // only its refusals
};

// P's watch program answering `action` (SECCOMP_RET_TRACE or
// SECCOMP_RET_USER_NOTIF), with the self-defence calls
// (self_defence_syscalls()) stopped always; under SECCOMP_RET_TRACE those P
// lets run carry kSelfDefenceData, so that a ptrace tracer that has only
// this program (the in-container sensor) refuses the ones aimed at it and
// lets the rest run, unreported.
std::vector<sock_filter> watch_program(const SeccompProfile& profile, const EvalContext& ctx, uint32_t action);

// The profile the runtime loads to check P through the OCI agent
// (profile/agent_profile.h check_runtime_profile), with the self-defence
// calls notified always, so that the agent refuses those aimed at sctrace.
SeccompProfile agent_check_profile(const SeccompProfile& profile, const EvalContext& ctx,
                                   const std::string& listener_path, std::vector<std::string>* unwatchable);

// A local check's watch of `profile`, and `run --baseline`'s of the
// baseline's (RunRequest::watch_filter and
// watch_lets_run): what the profile lets run passes in the kernel, except
// the self-defence calls, which reach the tracer always so that those aimed
// at sctrace are refused; the rest of them run unreported.
void watch_profile(RunRequest& request, const SeccompProfile& profile, const EvalContext& ctx);

// The errno --enforce answers with: the profile's defaultErrnoRet, else EPERM.
int enforce_errno(const SeccompProfile& p);

// The agent's handler: P's watch program (compile_watch_filter(P, ctx,
// SECCOMP_RET_USER_NOTIF)) decides each notification's seccomp_data:
// ALLOW -> continue silently (a conditional allow, clone's flags);
// ERRNO(x) -> answered x, what P itself answers (ENOSYS); USER_NOTIF -> a
// violation, recorded into the sink and let through, or answered with the
// deny errno under --enforce.
class AgentCheck : public NotifyHandler {
 public:
  AgentCheck(std::vector<sock_filter> prog, ViolationSink& sink, std::optional<int> deny)
      : prog_(std::move(prog)), sink_(sink), deny_(deny) {}

  NotifyDecision on_notify(const SyscallEvent& ev) override;

 private:
  std::vector<sock_filter> prog_;
  ViolationSink& sink_;
  std::optional<int> deny_;
};

// The files --report-json, --sarif and --junit name ("" = not written).
struct CheckOutputs {
  std::string report_json;
  std::string sarif;
  std::string junit;
};
// The text report on stderr, the files asked for (and a line naming them);
// returns check's exit code for r (report/check_report.h check_exit_code).
int write_check_report(const CheckReport& r, const CheckOutputs& out, const SayFn& say);

}  // namespace sctrace
