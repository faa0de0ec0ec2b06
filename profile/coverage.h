#pragma once
// Coverage hints (issue 17): whole classes of behaviour a recording never
// saw (no sleep, no signal delivered, no child reaped, no shutdown), and
// whether static completion covered them. A profile made from such a
// recording refuses the first sleep, signal or exit the probes did not cause.
#include <string>
#include <string_view>
#include <vector>

#include "profile/recording.h"

namespace sctrace {

// A class of behaviour and the syscalls that show it in a recording: any one
// of them recorded means the class was exercised.
struct CoverageClass {
  std::string_view missing;  // "no sleep or timed wait was recorded"
  std::vector<std::string_view> syscalls;
  // The same behaviour under a 32-bit ABI's names: count as exercised, not named in the line.
  std::vector<std::string_view> compat_syscalls = {};
};
const std::vector<CoverageClass>& coverage_classes();

// One line per class the recording never exercised ("coverage: ...", without
// the "sctrace: " prefix), each saying what static completion (the
// recording's static section) added of it; then, for a docker or podman
// line, one line saying that `<engine> exec` commands run under the same
// profile and that --exec-probe records them. Empty when there is nothing to say.
std::vector<std::string> coverage_hints(const Recording& rec);

}  // namespace sctrace
