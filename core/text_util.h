#pragma once
// Small text helpers shared by the reports and summaries.
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "core/arch.h"

namespace sctrace {

// "SCMP_ARCH_X86_64" -> "x86_64"; names libseccomp does not know stay as written.
inline std::string short_arch(const std::string& scmp) {
  auto t = arch::from_scmp_name(scmp);
  return t ? arch::short_name(*t) : scmp;
}

inline std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

// "1 call", "3 calls".
inline std::string plural(uint64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace sctrace
