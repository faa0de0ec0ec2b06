#pragma once
// Text that came from the workload (executable paths, file names in an image,
// command lines, strings read from /proc or the recording) is untrusted: a
// name holding ESC sequences or a newline would colour the terminal or forge
// a line of sctrace's own output. Everything of that kind goes through
// printable() before it reaches a text report or stderr. JSON and SARIF
// output keep the raw value (their encoders escape), as does the recording.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/arch.h"

namespace sctrace {

// s with every C0 control character, DEL and byte that is not part of valid
// UTF-8 escaped: \n \t \r \\ as C escapes, the rest as \xNN; a backslash
// becomes \\ so an escape cannot be forged either. Valid UTF-8 (but for the
// C1 controls U+0080..U+009F, which some terminals obey too) is kept.
std::string printable(std::string_view s);

// Small helpers shared by the reports and summaries.
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

// strconv.ParseBool: how Docker, podman and pflag read a boolean option value.
inline std::optional<bool> parse_go_bool(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return false;
  return std::nullopt;
}

}  // namespace sctrace
