#pragma once
// `sctrace explain SYSCALL`: why a syscall is in a recording (classes,
// counts, callers, stacks) and what a profile (the Docker default) does with
// it. report/text.h and report/json.h write the result.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/arch.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"

namespace sctrace {

// What a profile does with one syscall name for a container of context ctx.
struct SyscallStatus {
  bool allowed = false;        // some ALLOW rule in force admits it (perhaps only for some arguments)
  bool conditional = false;    // ... but only with argument conditions
  std::string summary;         // "allowed", "allowed when arg0 == 0x0", "denied (EPERM)", ...
  // ALLOW rules that are not in force for ctx, as conditions: "with CAP_SYS_ADMIN".
  std::vector<std::string> otherwise;
};
SyscallStatus profile_status(const SeccompProfile& profile, std::string_view name, const EvalContext& ctx);

// What a profile admits for one name in ctx: unconditionally, or for some
// sets of argument conditions (one set per ALLOW rule, any may match).
struct Allowance {
  bool any = false;
  bool unconditional = false;
  std::vector<std::vector<ArgCond>> sets;
};
Allowance allowance(const SeccompProfile& p, std::string_view name, const EvalContext& ctx);
// True when every call `set` admits is admitted by one of `by` (a rule with a
// subset of the conditions admits at least as much).
bool covered(const std::vector<ArgCond>& set, const Allowance& by);
// "denied", "allowed for any arguments", "allowed when arg0 == 0x1 or ..."
std::string allowance_text(const Allowance& a);

struct SyscallExplanation {
  std::string syscall;
  const SyscallInfo* info = nullptr;  // the bundled description, when there is one
  SyscallStatus docker_default;       // what the bundled Docker default does with it
  std::string recording;              // the recording's name (its path)
  struct Found {
    arch::Token arch;
    SyscallRecord record;
  };
  std::vector<Found> found;  // one per arch the recording has the syscall on
  struct Reached {
    arch::Token arch;
    StaticReach reach;
  };
  // Not recorded, but reachable by a loaded module (run --static): one per arch.
  std::vector<Reached> reached;
  // Set when the profile made from the recording answers the name ENOSYS on
  // purpose (clone3 under Docker's default): libc meets that by falling back.
  struct EnosysAnswer {
    std::string source;  // "template", "recorded" or "errno-policy": whose decision it is
    std::string reason;  // "Docker's default answers clone3 with ENOSYS without CAP_SYS_ADMIN"
    std::vector<std::string> falls_back_to;  // from templates/errno-policy.json; empty: none named
    bool fallback_known = false;             // the policy names the fallbacks (perhaps none)
  };
  std::optional<EnosysAnswer> enosys;

  // The recording or the profile accounts for the name (explain exits 0).
  bool covered() const { return !found.empty() || !reached.empty() || enosys.has_value(); }
};

// What explain says about `name` given a recording and the reference profile
// (the bundled Docker default) evaluated for ctx.
SyscallExplanation explain_syscall(std::string_view name, const Recording& rec, std::string recording_name,
                                   const SeccompProfile& reference, const EvalContext& ctx);

}  // namespace sctrace
