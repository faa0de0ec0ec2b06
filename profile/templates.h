#pragma once
// Data from templates/, embedded at build time.
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "profile/seccomp_profile.h"

namespace sctrace {

// templates/errno-policy.json
struct ErrnoPolicy {
  // Syscalls libc (or the Go runtime) retries another way on ENOSYS: when not
  // observed they get ENOSYS instead of the default EPERM.
  std::set<std::string> enosys;
  // syscall -> syscalls libc falls back to when it gets ENOSYS; added to the
  // profile when the primary was observed but the profile returns ENOSYS for it.
  std::map<std::string, std::vector<std::string>> fallbacks;
  // Always allowed (kernel-internal returns, exit paths).
  std::set<std::string> always_allow;
};

// templates/runtime-baseline.json: what the OCI runtime itself does after it
// installs the filter and before the workload's first instruction.
struct RuntimeBaseline {
  std::string runtime;  // "runc 1.1.5"
  std::set<std::string> with_new_privs;     // noNewPrivileges=false (Docker's default)
  std::set<std::string> with_no_new_privs;  // noNewPrivileges=true
  // What the runtime's Go scheduler may do at any moment; already merged into
  // both sets above, kept apart for reports.
  std::set<std::string> go_runtime;
};

const SeccompProfile& docker_default_template();
std::string_view docker_default_template_json();
const ErrnoPolicy& errno_policy();
const RuntimeBaseline& runtime_baseline();
// A runtime-baseline.json text (the embedded one, or `sctrace calibrate`'s
// output). Throws Error(input) naming `source`.
RuntimeBaseline parse_runtime_baseline(std::string_view text, std::string_view source);
// Docker's default capability set ("CAP_CHOWN", ...): templates/docker-capabilities.json
const std::set<std::string>& docker_default_caps();

// templates/syscall-descriptions.json: for `sctrace explain`.
struct SyscallInfo {
  std::string description;      // one plain-language line
  std::string capability;       // "CAP_SYS_ADMIN": what the kernel checks for its privileged use; "" = none
  std::string capability_note;  // when that check applies ("" = always)
};
// nullptr when the table does not know the name.
const SyscallInfo* syscall_info(std::string_view name);

}  // namespace sctrace
