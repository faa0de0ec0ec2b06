#pragma once
// The few lines sctrace prints on stderr after it wrote a profile.
#include <string>
#include <string_view>

#include "profile/minimizer.h"
#include "profile/recording.h"

namespace sctrace {

// Every line starts with "sctrace: " and ends with '\n'.
std::string summary_text(const MinimizeResult& result);

// Call-site attribution: who made a syscall, from its captured stack.
//
// The caller is the first frame after the innermost one (which is the
// syscall instruction, inside a libc wrapper or the runtime's own stub) that
// is not C library code; C library code is a frame in libc.so*/libpthread*/
// libc.musl* or, in a static binary, a function named __libc_*, _IO_*, _dl_*
// or _start. The group is decided by the caller's module:
//   startup      the dynamic loader (ld-linux*, ld-musl*, ld.so*), or no frame
//                outside the C library at all (libc's own start-up and exit);
//   application  the calling process's main executable;
//   runtime      any other shared library (language runtimes, libstdc++,
//                plugins) and Go runtime functions (runtime.*, syscall.*).
enum class CallerGroup { startup, application, runtime, unknown };
struct CallSite {
  CallerGroup group = CallerGroup::unknown;
  StackFrame frame;  // the caller's frame (empty module and function: unknown)
};
CallSite call_site(const CallStack& stack);
std::string_view group_title(CallerGroup g);  // "libc/loader startup", "the application", "the runtime", "unknown"
std::string module_basename(std::string_view module);

// Per syscall the top calling module and function, grouped; "" when the
// recording holds no stacks. Lines start with "sctrace: ".
std::string attribution_text(const Recording& rec);

}  // namespace sctrace
