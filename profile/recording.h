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

// Call-site attribution. Bounds keep a recording small whatever the workload:
// argument classes per syscall, executables and stacks per class.
inline constexpr size_t kMaxArgClasses = 64;
inline constexpr size_t kMaxClassExecs = 16;
inline constexpr size_t kMaxClassStacks = 4;
inline constexpr size_t kMaxSyscallStacks = 32;  // over all classes of one (arch, syscall)
inline constexpr size_t kMaxRefusals = 32;

// One frame of a call stack, symbolized while the process was alive.
struct StackFrame {
  std::string module;    // path as the traced process saw it ("" = no mapping)
  std::string build_id;  // hex GNU build-id, "" when the module has none
  std::string function;  // "" when no symbol covers the address
  uint64_t offset = 0;   // into function when known, else equal to module_offset
  uint64_t module_offset = 0;  // ELF virtual address in module (addr2line -e module)
  bool operator==(const StackFrame&) const = default;
};

struct CallStack {
  std::string exe;                 // the calling process's executable
  std::vector<StackFrame> frames;  // innermost first
  bool operator==(const CallStack&) const = default;
};

// One distinct combination of a syscall's filtered argument values
// (filtered_args()); syscalls without filtered arguments have one class with
// no args.
struct ArgClass {
  std::map<unsigned, uint64_t> args;
  uint64_t count = 0;
  std::set<std::string> execs;   // at most kMaxClassExecs
  std::vector<CallStack> stacks; // at most kMaxClassStacks, one per calling executable
};

struct SyscallRecord {
  int nr = -1;
  uint64_t count = 0;
  pid_t first_pid = 0;
  uint64_t ok = 0;                    // calls that returned >= 0 (when results known)
  std::map<int, uint64_t> errors;     // errno -> count
  std::map<unsigned, ArgValues> args; // argument index -> distinct values
  // Empty in recordings made before attribution existed.
  std::vector<ArgClass> classes;
  bool classes_overflow = false;  // more than kMaxArgClasses: the rest are only counted above
  // The class with exactly these args, or nullptr.
  const ArgClass* find_class(const std::map<unsigned, uint64_t>& a) const;
  // True when every result seen was -ENOSYS (the workload fell back).
  bool only_enosys() const;
};

// A syscall the recording did not see but a loaded module can reach
// (static completion, issue 17): its risk tier, whether the profile allows
// it, and how it is reached ("libsqlite3.so.0 imports usleep -> clock_nanosleep").
inline constexpr size_t kMaxProvenance = 8;
struct StaticReach {
  bool sensitive = false;  // templates/static-tiers.json: not benign
  bool added = false;      // the profile allows it (run --static)
  std::vector<std::string> provenance;  // at most kMaxProvenance, sorted
  void merge(const StaticReach& o);
  bool operator==(const StaticReach&) const = default;
};

struct Recording {
  // arch (SCMP token) -> syscall name -> record. Unknown numbers (newer than
  // libseccomp) are named "__nr_<N>".
  std::map<arch::Token, std::map<std::string, SyscallRecord>> syscalls;
  std::vector<std::vector<std::string>> commands;  // what was run
  std::set<std::string> execs;                     // paths passed to execve that succeeded
  bool complete = true;  // false when interrupted or timed out
  std::string backend;   // "ptrace", "notify", ...
  // Calls the tracer refused because they aimed at itself
  // (tracer/self_defence.h): note -> how often. At most kMaxRefusals notes.
  std::map<std::string, uint64_t> refusals;
  // arch -> syscall name -> how a loaded module reaches it; only names the
  // recording does not have.
  std::map<arch::Token, std::map<std::string, StaticReach>> static_reach;

  void add_refusal(const std::string& note, uint64_t count = 1);

  void merge(const Recording& other);
  size_t total_names() const;
};

// syscall name -> argument indices worth recording: templates/arg-filters.json
const std::map<std::string, std::vector<unsigned>>& arg_filter_table();
// Which argument indices are worth keeping for a syscall (arg_filter_table()).
const std::vector<unsigned>& filtered_args(std::string_view syscall_name);
// templates/arg-filters.json "observed_only": the template's unconditional
// allow of these names is narrowed to the argument tuples recorded (the
// uid/gid-setting calls).
bool allowed_only_as_observed(std::string_view syscall_name);

std::string recording_to_json(const Recording& rec);
// Throws Error(ErrorKind::input) naming `source` and the JSON path of the problem.
Recording recording_from_json(std::string_view text, std::string_view source);

// "function+0x1a (module)", "module+0x1234" or "??".
std::string frame_text(const StackFrame& f);
// Merges one class into a list, keeping every bound.
void merge_class(std::vector<ArgClass>& into, bool& overflow, const ArgClass& c);

// Where `run` writes the recording beside profile `out`: "x.json" ->
// "x.recording.json", anything else gets ".recording.json" appended.
std::string default_recording_path(std::string_view profile_path);

// errno <-> "ENOENT" via glibc, no table of our own.
std::string errno_name(int err);
int errno_from_name(std::string_view name);  // -1 when unknown

}  // namespace sctrace
