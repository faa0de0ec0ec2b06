#include "session/check.h"

#include <linux/seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "core/arch.h"
#include "core/atomic_file.h"
#include "profile/agent_profile.h"
#include "profile/filter.h"
#include "report/json.h"
#include "report/junit.h"
#include "report/sarif.h"
#include "report/text.h"
#include "session/outputs.h"
#include "tracer/self_defence.h"

namespace sctrace {

namespace {

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::string call_site(pid_t pid, uint64_t ip) {
  if (ip == 0) return {};
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0, off = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &path_at) < 4) continue;
    if (ip < lo || ip >= hi) continue;
    std::string path = path_at > 0 ? line.substr(static_cast<size_t>(path_at)) : "";
    if (path.empty()) return fmt::format("[anonymous]+{:#x}", ip - lo);
    return fmt::format("{}+{:#x}", path, ip - lo + off);
  }
  return {};
}

void ViolationSink::on_syscall(const SyscallEvent& ev) {
  std::lock_guard lock(mu_);
  const arch::ArchNr an = arch::from_audit(ev.audit_arch, ev.nr);
  collector_.add(an.arch, an.nr, [&] {
    // The task waits in its syscall (notify) or in a ptrace stop while
    // this runs, so /proc shows the process that made the call.
    ViolationExample e;
    e.pid = ev.pid ? ev.pid : ev.tid;
    e.tid = ev.tid;
    e.executable = read_link(fmt::format("/proc/{}/exe", e.pid));
    e.ip = ev.ip;
    e.call_site = call_site(e.tid ? e.tid : e.pid, ev.ip);
    e.args = ev.args;
    e.has_args = true;
    return e;
  });
}

void ViolationSink::on_refusal(std::string_view note) {
  std::lock_guard lock(mu_);
  refusals_.add_refusal(std::string(note));
}

void ViolationSink::say_refusals(const SayFn& say) {
  std::lock_guard lock(mu_);
  sctrace::say_refusals(refusals_, say);
}

std::vector<sock_filter> watch_program(const SeccompProfile& profile, const EvalContext& ctx, uint32_t action) {
  return compile_watch_filter(profile, ctx, action, self_defence_syscalls(),
                              action == SECCOMP_RET_TRACE ? kSelfDefenceData : 0);
}

SeccompProfile agent_check_profile(const SeccompProfile& profile, const EvalContext& ctx,
                                   const std::string& listener_path, std::vector<std::string>* unwatchable) {
  return check_runtime_profile(profile, ctx, listener_path, unwatchable, self_defence_syscalls());
}

void watch_profile(RunRequest& request, const SeccompProfile& profile, const EvalContext& ctx) {
  request.watch_filter = [profile, ctx](uint32_t action) { return watch_program(profile, ctx, action); };
  // The program without them judges a reported call: the kernel answers
  // SECCOMP_RET_ALLOW and LOG without reporting, so those verdicts are the
  // self-defence calls the profile lets run.
  auto plain = std::make_shared<const std::vector<sock_filter>>(
      compile_watch_filter(profile, ctx, SECCOMP_RET_USER_NOTIF));
  request.watch_lets_run = [plain](const SyscallEvent& ev) {
    const uint32_t action = filter_verdict(*plain, ev.audit_arch, ev.nr, ev.args, ev.ip) & SECCOMP_RET_ACTION_FULL;
    return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG;
  };
}

std::vector<CheckViolation> ViolationSink::take() {
  std::lock_guard lock(mu_);
  return collector_.take();
}

int enforce_errno(const SeccompProfile& p) { return p.default_errno_ret ? static_cast<int>(*p.default_errno_ret) : EPERM; }

NotifyDecision AgentCheck::on_notify(const SyscallEvent& ev) {
  const uint32_t verdict = filter_verdict(prog_, ev.audit_arch, ev.nr, ev.args, ev.ip);
  switch (verdict & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW:
    case SECCOMP_RET_LOG:
      return {true, 0};
    case SECCOMP_RET_ERRNO:
      // The profile's designed answer (ENOSYS): not a violation.
      return {false, static_cast<int>(verdict & SECCOMP_RET_DATA)};
    default:
      sink_.on_syscall(ev);
      if (deny_) return {false, *deny_};
      return {true, 0};
  }
}

int write_check_report(const CheckReport& r, const CheckOutputs& o, const SayFn& say) {
  std::fputs(report_text(r).c_str(), stderr);
  std::vector<std::string> wrote;
  if (!o.report_json.empty()) {
    write_file_atomic(o.report_json, report_json(r));
    wrote.push_back(o.report_json);
  }
  if (!o.sarif.empty()) {
    write_file_atomic(o.sarif, report_sarif(r));
    wrote.push_back(o.sarif);
  }
  if (!o.junit.empty()) {
    write_file_atomic(o.junit, report_junit(r));
    wrote.push_back(o.junit);
  }
  if (!wrote.empty()) {
    std::string s;
    for (const auto& w : wrote) s += (s.empty() ? "" : ", ") + w;
    say("wrote " + s);
  }
  return check_exit_code(r);
}

}  // namespace sctrace
