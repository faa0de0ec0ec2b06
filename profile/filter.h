#pragma once
// Compiling a Docker-format profile into a seccomp BPF program with libseccomp,
// with the semantics runc gives it (arches, errnoRet, argument rules), and
// running such a program in user space.
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/arch.h"
#include "profile/recording.h"
#include "profile/seccomp_profile.h"

namespace sctrace {

enum class FilterMode {
  enforce,         // the profile as runc would load it
  notify_denials,  // every non-allow action (default and rules) becomes SECCOMP_RET_USER_NOTIF
};

// Syscall names (libseccomp's) whose calls reach the tracer in notify_denials
// and watch filters even where the profile lets them run: the calls that can
// stop, read or signal the tracer (tracer/self_defence.h), which the tracer
// must see to refuse. Where the profile lets such a call run, the filter
// answers it with the notify (watch) action instead of ALLOW or LOG, on every
// arch the filter covers; every other verdict is the one it has without them.
// The handler then judges the call itself (filter_verdict on the program
// compiled without them). Ignored by FilterMode::enforce.
using AlwaysWatched = std::vector<std::string>;

// Throws Error(ErrorKind::input) for profiles libseccomp rejects.
std::vector<sock_filter> compile_filter(const SeccompProfile& profile, const EvalContext& ctx, FilterMode mode,
                                        const AlwaysWatched& always = {});

// A watch filter (`check`, `run --baseline`): every syscall and argument
// combination the profile lets run (SCMP_ACT_ALLOW, SCMP_ACT_LOG) is
// SECCOMP_RET_ALLOW; every other verdict (the default action, ERRNO, KILL,
// TRAP and TRACE rules, arches the profile does not cover) becomes
// `watch_action`, which must be SECCOMP_RET_TRACE or SECCOMP_RET_USER_NOTIF.
// Except ERRNO(ENOSYS) (Docker's clone3 rule, the errno policy's ENOSYS
// answers, runc's ENOSYS stub): that is the profile's designed answer, which
// libc meets by falling back (clone3 -> clone), so it is kept and the
// workload takes the fallback it takes in production, which is then checked
// in turn. Same compiler as compile_filter, so "allowed" means what runc
// would let through. always_data (SECCOMP_RET_TRACE only): the
// SECCOMP_RET_DATA of the always-watched calls where the profile lets them
// run, so that a ptrace tracer tells them from the profile's refusals at the
// stop itself, with no second program to run (the in-container sensor).
std::vector<sock_filter> compile_watch_filter(const SeccompProfile& profile, const EvalContext& ctx,
                                              uint32_t watch_action, const AlwaysWatched& always = {},
                                              uint32_t always_data = 0);

// `run --baseline OLD`: a profile that allows what OLD covers, to compile
// with compile_watch_filter. Syscalls without classified arguments
// (templates/arg-filters.json) are allowed by name; those with them only for
// the recorded values (every combination of the recorded values of each
// classified argument; an overflowed argument is not constrained), and not at
// all past kMaxBaselineCombinations combinations, so they always stop. Arches
// are OLD's (and the native one); names are allowed on all of them (one rule
// per name, as in profiles). Names libseccomp does not know always stop.
inline constexpr size_t kMaxBaselineCombinations = 64;
SeccompProfile baseline_profile(const Recording& old);

// Runs a classic BPF seccomp program against `data` and returns its
// SECCOMP_RET_* value, exactly as the kernel would.
uint32_t run_filter(const std::vector<sock_filter>& prog, const seccomp_data& data);

// The verdict (SECCOMP_RET_*, full value) of `prog` on one syscall as a
// notification or a tracer's event gives it: audit arch, number as the
// kernel saw it (x32 keeps its bit 30, as the program expects), arguments,
// instruction pointer. Used by verify and check on live calls.
inline uint32_t filter_verdict(const std::vector<sock_filter>& prog, uint32_t audit_arch, int32_t nr,
                               const std::array<uint64_t, 6>& args, uint64_t ip = 0) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = audit_arch;
  d.instruction_pointer = ip;
  for (size_t i = 0; i < args.size(); ++i) d.args[i] = args[i];
  return run_filter(prog, d);
}

// The verdict of `prog` on a call as a recording holds it (Recording::syscalls:
// a libseccomp arch token and libseccomp's number for it), judged on the
// seccomp_data the kernel builds for that call (arch::to_audit): an x32 call
// is AUDIT_ARCH_X86_64 with bit 30 in nr, never the SCMP_ARCH_X32 token,
// which no filter matches. Every judgment of a recorded call goes through here.
inline uint32_t recorded_call_verdict(const std::vector<sock_filter>& prog, arch::Token arch, int nr,
                                      const std::array<uint64_t, 6>& args) {
  const arch::AuditNr k = arch::to_audit(arch, nr);
  return filter_verdict(prog, k.audit_arch, k.nr, args);
}

}  // namespace sctrace
