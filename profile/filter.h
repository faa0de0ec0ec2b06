#pragma once
// Compiling a Docker-format profile into a seccomp BPF program with libseccomp,
// with the semantics runc gives it (arches, errnoRet, argument rules), and
// running such a program in user space.
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <vector>

#include "profile/seccomp_profile.h"

namespace sctrace {

enum class FilterMode {
  enforce,         // the profile as runc would load it
  notify_denials,  // every non-allow action (default and rules) becomes SECCOMP_RET_USER_NOTIF
};

// Throws Error(ErrorKind::input) for profiles libseccomp rejects.
std::vector<sock_filter> compile_filter(const SeccompProfile& profile, const EvalContext& ctx, FilterMode mode);

// Runs a classic BPF seccomp program against `data` and returns its
// SECCOMP_RET_* value, exactly as the kernel would.
uint32_t run_filter(const std::vector<sock_filter>& prog, const seccomp_data& data);

}  // namespace sctrace
