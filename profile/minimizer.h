#pragma once
// recording x template -> profile.
#include <string>
#include <string_view>
#include <vector>

#include "profile/recording.h"
#include "profile/seccomp_profile.h"
#include "profile/templates.h"

namespace sctrace {

// What the profile does with a call no rule allows. deny: the template's
// default (Docker's errno). log (`run --unlisted log`): defaultAction
// SCMP_ACT_LOG, the call runs and the kernel logs it (a canary rollout;
// `sctrace harvest` reads the log back). Only for what the template would
// let run: its refusing rules (clone3's ENOSYS) stay, and the names it
// refuses by its default get a rule with that answer.
enum class Unlisted { deny, log };
// "errno" -> deny, "log" -> log; throws Error(usage) for anything else.
Unlisted unlisted_from_name(std::string_view name);

struct MinimizeOptions {
  Unlisted unlisted = Unlisted::deny;
  EvalContext ctx = EvalContext::docker_default();
  bool no_new_privileges = false;  // picks the runtime baseline variant
  bool add_runtime_baseline = true;
  // The baseline to add (`run --runtime-baseline FILE`, from `sctrace
  // calibrate`); null: the embedded templates/runtime-baseline.json.
  const RuntimeBaseline* runtime_baseline = nullptr;
};

struct DeniedObservation {
  std::string arch;     // "SCMP_ARCH_X86_64"
  std::string syscall;
  std::string reason;   // "not allowed by the template", "argument value 0x28 outside the template's rules"
};

struct MinimizeResult {
  SeccompProfile profile;
  std::vector<DeniedObservation> template_denied;  // observed but the template denies: reported, not added
  std::vector<std::string> arches;                 // SCMP names in the profile
  size_t allowed_names = 0;   // distinct syscall names the profile allows (native arch)
  size_t template_names = 0;  // distinct names the template allows in ctx (native arch)
  std::vector<std::string> added_fallbacks;  // e.g. "clone (fallback of clone3)"
  // Made by the workload (not only failing with ENOSYS) yet answered ENOSYS by
  // the profile, because the template does (clone3 under Docker's default):
  // the workload must fall back, which the recording cannot show.
  std::vector<std::string> answered_enosys;
};

// An SCMP_ACT_ERRNO rule that answers ENOSYS (the profile's designed answer
// for calls libc falls back from, clone3 under Docker's default).
bool answers_enosys(const SyscallRule& r);

MinimizeResult minimize(const Recording& rec, const SeccompProfile& tmpl, const MinimizeOptions& opts);

}  // namespace sctrace
