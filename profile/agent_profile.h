#pragma once
// The profiles a runtime loads when sctrace's seccomp agent (listenerPath)
// answers its notifications: one to record with, one to check a profile
// with. Pure decisions over profile/ and core/; the agent run itself is
// session/oci_agent.h.
//
// runc hands the listener over to its parent with `write` after loading the
// filter, so `write` can never be SCMP_ACT_NOTIFY. `rt_sigreturn` and
// `restart_syscall` stay allowed too: runc's init is a Go program whose
// threads take signals (asynchronous preemption) at any moment, also between
// loading the filter and handing the listener over, and a notified
// rt_sigreturn on the handing-over thread blocks it forever.
#include <string>
#include <vector>

#include "profile/seccomp_profile.h"

namespace sctrace {

// The template with every allow rule turned into SCMP_ACT_NOTIFY except for
// the three hand-over syscalls above (each keeps an allow rule with the same
// conditions), and listenerPath set. Throws Error(input) for a template whose
// defaultAction is SCMP_ACT_ALLOW (runc refuses NOTIFY as the default).
SeccompProfile recording_profile(const SeccompProfile& tmpl, const std::string& listener_path);

// `check` through the agent: the profile the runtime loads for checking P.
// Syscalls P allows whatever their arguments stay SCMP_ACT_ALLOW in the
// kernel (and the three hand-over syscalls); every other syscall libseccomp
// knows on P's arches is named with SCMP_ACT_NOTIFY (runc refuses NOTIFY as
// the default action); defaultAction and arches are P's. `unwatchable` gets
// the hand-over syscalls P does not allow whatever their arguments (they run
// unwatched). The names in `always` (other than the hand-over syscalls) are
// notified even where P lets them run: the calls the agent must see to
// refuse those aimed at sctrace (profile/filter.h AlwaysWatched).
SeccompProfile check_runtime_profile(const SeccompProfile& p, const EvalContext& ctx, const std::string& listener_path,
                                     std::vector<std::string>* unwatchable = nullptr,
                                     const std::vector<std::string>& always = {});

}  // namespace sctrace
