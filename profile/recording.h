#pragma once
// The recording: the set of syscalls a workload made, not a log. Per (arch,
// syscall): how often, the first pid, the distinct values of the arguments
// seccomp can usefully filter on, and the results seen.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/arch.h"

namespace sctrace {

// Distinct values kept per filtered argument; past this the argument is marked
// overflowed and the minimizer does not narrow on it.
inline constexpr size_t kMaxArgValues = 256;

struct ArgValues {
  std::set<uint64_t> values;
  bool overflow = false;
  void add(uint64_t v);
  void merge(const ArgValues& o);
};

struct SyscallRecord {
  int nr = -1;
  uint64_t count = 0;
  pid_t first_pid = 0;
  uint64_t ok = 0;                    // calls that returned >= 0 (when results known)
  std::map<int, uint64_t> errors;     // errno -> count
  std::map<unsigned, ArgValues> args; // argument index -> distinct values
  // True when every result seen was -ENOSYS (the workload fell back).
  bool only_enosys() const;
};

struct Recording {
  // arch (SCMP token) -> syscall name -> record. Unknown numbers (newer than
  // libseccomp) are named "__nr_<N>".
  std::map<arch::Token, std::map<std::string, SyscallRecord>> syscalls;
  std::vector<std::vector<std::string>> commands;  // what was run
  std::set<std::string> execs;                     // paths passed to execve that succeeded
  bool complete = true;  // false when interrupted or timed out
  std::string backend;   // "ptrace", "notify", ...

  void merge(const Recording& other);
  size_t total_names() const;
};

// Which argument indices are worth keeping for a syscall (templates/arg-filters.json).
const std::vector<unsigned>& filtered_args(std::string_view syscall_name);

std::string recording_to_json(const Recording& rec);
// Throws Error(ErrorKind::input) naming `source` and the JSON path of the problem.
Recording recording_from_json(std::string_view text, std::string_view source);

// errno <-> "ENOENT" via glibc, no table of our own.
std::string errno_name(int err);
int errno_from_name(std::string_view name);  // -1 when unknown

}  // namespace sctrace
