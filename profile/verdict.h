#pragma once
// What a compiled profile answers to what a workload did: each call of a
// recording run through the program (container verify), or one syscall on the
// native arch (verify, check --enforce and enforce ask about execve first).
#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "profile/recording.h"

namespace sctrace {

// A recorded syscall the program refuses for at least one recorded argument
// combination, with the errno it answers (EPERM for KILL, TRAP and TRACE) and
// how often the recording saw the call.
struct RecordedDenial {
  uint32_t arch_token = 0;  // libseccomp's token, which is the audit arch
  std::string name;
  int err = 0;
  uint64_t count = 0;
};

// Every named syscall of rec against prog, with every combination of its
// recorded argument values (unrecorded arguments are 0; at most ~256
// combinations). A call answered only ENOSYS is not a denial: that is the
// profile's design (libc falls back). In the recording's order.
std::vector<RecordedDenial> denials_of(const Recording& rec, const std::vector<sock_filter>& prog);

// What prog answers NAME on the native arch (arguments 0) when it does not
// let it run (the whole SECCOMP_RET_* value); nullopt when it runs. A
// workload that cannot even start is a verdict, not an error.
std::optional<uint32_t> refused_natively(const std::vector<sock_filter>& prog, std::string_view name);

// "EPERM", or what else a refusing SECCOMP_RET_* value does to the call.
std::string refusal_text(uint32_t ret);

}  // namespace sctrace
