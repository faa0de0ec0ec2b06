#include "report/check_report.h"

#include <string.h>

#include <fmt/format.h>

namespace sctrace {

std::string workload_status(const CheckReport& r) {
  if (r.interrupted) return "interrupted";
  if (r.timed_out) return "killed at --timeout";
  if (r.signal != 0)
    return fmt::format("killed by signal {} ({}){}", r.signal, sigabbrev_np(r.signal) ? sigabbrev_np(r.signal) : "?",
                       r.core_dumped ? ", core dumped" : "");
  if (r.probes_failed) return "ran, but a probe failed";
  return fmt::format("exited {}", r.exit_code);
}

bool workload_ok(const CheckReport& r) { return !r.interrupted && !r.timed_out && r.exit_code == 0; }

void ViolationCollector::add(arch::Token arch, int nr, const std::function<ViolationExample()>& example) {
  auto name = arch::syscall_name(arch, nr);
  const std::string arch_name = arch::scmp_name(arch);
  const std::string call = name ? *name : fmt::format("__nr_{}", nr);
  CheckViolation& v = by_key_[{arch_name, call}];
  if (v.count++ == 0) {
    v.arch = arch_name;
    v.name = call;
    v.nr = nr;
  }
  if (v.examples.size() >= kExamplesPerSyscall) return;
  ViolationExample e = example();
  if (!e.executable.empty()) v.executables.insert(e.executable);
  v.examples.push_back(std::move(e));
}

std::vector<CheckViolation> ViolationCollector::take() {
  std::vector<CheckViolation> out;
  for (auto& [k, v] : by_key_) out.push_back(std::move(v));
  by_key_.clear();
  return out;
}

std::vector<CheckViolation> violations_from_recording(const Recording& rec) {
  std::vector<CheckViolation> out;
  for (const auto& [token, calls] : rec.syscalls)
    for (const auto& [name, sr] : calls) {
      CheckViolation v;
      v.arch = arch::scmp_name(token);
      v.name = name;
      v.nr = sr.nr;
      v.count = sr.count;
      ViolationExample e;
      e.pid = sr.first_pid;
      for (const auto& [idx, vals] : sr.args)
        e.classified[idx] = std::vector<uint64_t>(vals.values.begin(), vals.values.end());
      v.examples.push_back(std::move(e));
      out.push_back(std::move(v));
    }
  return out;
}

CheckViolation refused_execve() {
  CheckViolation v;
  v.arch = arch::scmp_name(arch::native());
  v.name = "execve";
  v.nr = arch::syscall_nr(arch::native(), "execve").value_or(-1);
  v.count = 1;
  return v;
}

}  // namespace sctrace
