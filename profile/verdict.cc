#include "profile/verdict.h"

#include <linux/seccomp.h>

#include <array>
#include <cerrno>

#include "core/arch.h"
#include "profile/filter.h"

namespace sctrace {

namespace {

// Every combination of the recorded values of each argument, unrecorded ones 0.
std::vector<std::array<uint64_t, 6>> argument_samples(const SyscallRecord& r) {
  std::vector<std::array<uint64_t, 6>> samples(1, std::array<uint64_t, 6>{});
  for (const auto& [idx, vals] : r.args) {
    if (vals.overflow || vals.values.empty()) continue;
    std::vector<std::array<uint64_t, 6>> next;
    for (const auto& s : samples)
      for (uint64_t v : vals.values) {
        auto c = s;
        c[idx] = v;
        next.push_back(c);
        if (next.size() > 256) break;
      }
    samples = std::move(next);
  }
  return samples;
}

}  // namespace

std::vector<RecordedDenial> denials_of(const Recording& rec, const std::vector<sock_filter>& prog) {
  std::vector<RecordedDenial> out;
  for (const auto& [arch_token, calls] : rec.syscalls) {
    for (const auto& [name, r] : calls) {
      if (name.rfind("__nr_", 0) == 0) continue;
      int worst_errno = 0;
      for (const auto& a : argument_samples(r)) {
        uint32_t ret = recorded_call_verdict(prog, arch_token, r.nr, a);
        uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
        if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG) continue;
        int e = action == SECCOMP_RET_ERRNO ? static_cast<int>(ret & SECCOMP_RET_DATA) : EPERM;
        if (e != ENOSYS) worst_errno = e;
      }
      if (worst_errno != 0) out.push_back({arch_token, name, worst_errno, r.count});
    }
  }
  return out;
}

std::optional<uint32_t> refused_natively(const std::vector<sock_filter>& prog, std::string_view name) {
  const auto nr = arch::syscall_nr(arch::native(), name);
  if (!nr) return std::nullopt;
  const uint32_t ret = recorded_call_verdict(prog, arch::native(), *nr, {});
  const uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG) return std::nullopt;
  return ret;
}

std::string refusal_text(uint32_t ret) {
  const uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
  if (action == SECCOMP_RET_ERRNO) return errno_name(static_cast<int>(ret & SECCOMP_RET_DATA));
  if (action == SECCOMP_RET_TRACE || action == SECCOMP_RET_USER_NOTIF) return "ENOSYS";
  return "SIGSYS (the process is killed)";
}

}  // namespace sctrace
