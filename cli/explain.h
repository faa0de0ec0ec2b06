#pragma once
// `sctrace explain` and `sctrace diff` (cli/cmd_explain.cc): the pieces unit
// tests check without running the command.
#include <string>
#include <string_view>
#include <vector>

#include "profile/recording.h"
#include "profile/seccomp_profile.h"

namespace sctrace::cli {

// What a profile does with one syscall name for a container of context ctx.
struct SyscallStatus {
  bool allowed = false;        // some ALLOW rule in force admits it (perhaps only for some arguments)
  bool conditional = false;    // ... but only with argument conditions
  std::string summary;         // "allowed", "allowed when arg0 == 0x0", "denied (EPERM)", ...
  // ALLOW rules that are not in force for ctx, as conditions: "with CAP_SYS_ADMIN".
  std::vector<std::string> otherwise;
};
SyscallStatus profile_status(const SeccompProfile& profile, std::string_view name, const EvalContext& ctx);

struct DiffEntry {
  std::string arch;     // short name ("x86_64"); "" for profile rules (every arch)
  std::string syscall;
  std::string detail;   // "3 calls", "arg0: new values 0xa", ...
  std::vector<CallStack> stacks;  // recordings: the stacks that explain an addition
};

struct DiffResult {
  std::string kind;  // "recordings" or "profiles"
  std::vector<std::string> arches_added, arches_removed;
  std::vector<DiffEntry> added, removed, widened, narrowed;
  std::vector<std::string> notes;
  // NEW allows something OLD did not: CI gates on this (exit 1).
  bool new_allows_more() const { return !arches_added.empty() || !added.empty() || !widened.empty(); }
};

DiffResult diff_recordings(const Recording& old_rec, const Recording& new_rec);
DiffResult diff_profiles(const SeccompProfile& old_p, const SeccompProfile& new_p, const EvalContext& ctx);
std::string diff_text(const DiffResult& d, std::string_view old_name, std::string_view new_name);
std::string diff_json(const DiffResult& d, std::string_view old_name, std::string_view new_name);

}  // namespace sctrace::cli
