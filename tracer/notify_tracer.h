#pragma once
// The seccomp user-notification recording backend: every syscall of the
// workload, from its first execve on, stops in the kernel until sctrace has
// recorded it and answered CONTINUE. No results (the answer comes before the
// syscall runs), no ptrace: works where ptrace is refused (nested tracers,
// Yama) and costs one round trip per syscall instead of two stops.
//
// With LaunchSpec::watch_filter the listener is on the program it returns for
// SECCOMP_RET_USER_NOTIF instead of notify_everything_filter(): only what that
// program notifies reaches the sink (and the workload runs at full speed
// otherwise). LaunchSpec::deny_errno answers each reported syscall with that
// errno instead of CONTINUE.
#include <linux/filter.h>

#include <memory>
#include <vector>

#include "tracer/tracer.h"

namespace sctrace {

// A filter that notifies every syscall of the native arch, x86 and x32 (and,
// through the bad-arch action, any other arch the kernel lets in).
std::vector<sock_filter> notify_everything_filter();

// TracerCaps{results=false, follows_children=true, sees_pre_exec=false}.
// Not root: the filter goes in with no_new_privs (the kernel requires it).
std::unique_ptr<Tracer> make_notify_tracer();

}  // namespace sctrace
