#include "profile/recorder.h"

#include <fmt/format.h>

namespace sctrace {

Recorder::Slot& Recorder::slot(uint32_t audit_arch, int32_t nr) {
  uint64_t key = (static_cast<uint64_t>(audit_arch) << 32) | static_cast<uint32_t>(nr);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  arch::ArchNr an = arch::from_audit(audit_arch, nr);
  auto name = arch::syscall_name(an.arch, an.nr);
  std::string key_name = name ? *name : fmt::format("__nr_{}", an.nr);
  SyscallRecord& r = rec_.syscalls[an.arch][key_name];
  r.nr = an.nr;
  return cache_.emplace(key, Slot{&r, &filtered_args(key_name)}).first->second;
}

void Recorder::add_syscall(uint32_t audit_arch, int32_t nr, const std::array<uint64_t, 6>& args,
                           std::optional<int64_t> result, pid_t pid) {
  Slot& s = slot(audit_arch, nr);
  SyscallRecord& r = *s.rec;
  if (r.count++ == 0) r.first_pid = pid;
  for (unsigned idx : *s.args) r.args[idx].add(args[idx]);
  if (result) {
    // The kernel's error range: -4095..-1.
    if (*result < 0 && *result >= -4095)
      ++r.errors[static_cast<int>(-*result)];
    else
      ++r.ok;
  }
}

}  // namespace sctrace
