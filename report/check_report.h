#pragma once
// What `sctrace check` found, as plain data: the violations (with their
// arguments, executables and call sites), how the workload ended, and the
// verdict. The cli fills it; report/{text,json,sarif,junit}.h write it.
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/arch.h"
#include "profile/recording.h"

namespace sctrace {

// Events kept per violating syscall with their details; the rest are counted.
constexpr size_t kExamplesPerSyscall = 5;

struct ViolationExample {
  pid_t pid = 0, tid = 0;
  std::string executable;
  uint64_t ip = 0;
  std::string call_site;  // "FILE+0xOFFSET" from /proc/PID/maps, when known
  std::array<uint64_t, 6> args{};
  bool has_args = false;  // all six registers (local backends)
  std::map<unsigned, std::vector<uint64_t>> classified;  // container: the recorded classified args
};

struct CheckViolation {
  std::string arch;  // "SCMP_ARCH_X86_64"
  std::string name;  // libseccomp's name, "__nr_N" when it has none
  int nr = -1;
  uint64_t count = 0;
  std::vector<ViolationExample> examples;
  std::set<std::string> executables;
};

struct CheckReport {
  std::string profile;               // the --profile path, as given
  std::vector<std::string> command;  // the workload, secrets already removed
  std::string backend;               // "ptrace", "notify", "ptrace-sensor", "notify-agent"
  bool enforce = false;
  std::optional<int> deny_errno;  // what --enforce answers a violation with
  std::vector<CheckViolation> violations;
  int exit_code = 0;  // the workload's status as a shell reports it
  bool timed_out = false;
  bool interrupted = false;
  bool probes_failed = false;  // container lines: a probe failed (exit_code 1 though the container exited 0)
  int signal = 0;              // local workloads killed by a signal: which
  bool core_dumped = false;
  double seconds = 0;
};

// "exited 3", "killed by signal 9 (KILL)", "interrupted", ...
std::string workload_status(const CheckReport& r);
bool workload_ok(const CheckReport& r);
inline bool check_passed(const CheckReport& r) { return r.violations.empty(); }
// check's exit status: 1 on any violation, else the workload's own.
inline int check_exit_code(const CheckReport& r) { return check_passed(r) ? r.exit_code : 1; }

// Gathers violations one event at a time: counts every call, keeps the
// details of the first kExamplesPerSyscall per (arch, syscall); `example` is
// called only for those (it reads /proc while the task waits). Not locked.
class ViolationCollector {
 public:
  void add(arch::Token arch, int nr, const std::function<ViolationExample()>& example);
  std::vector<CheckViolation> take();

 private:
  std::map<std::pair<std::string, std::string>, CheckViolation> by_key_;  // (arch, name)
};

// The sensor's watch recording (only what the check filter stopped on) as
// violations: one per (arch, syscall), the first pid and the classified
// arguments as its example.
std::vector<CheckViolation> violations_from_recording(const Recording& rec);

// What the report says when --enforce refuses the workload's own execve.
CheckViolation refused_execve();

}  // namespace sctrace
