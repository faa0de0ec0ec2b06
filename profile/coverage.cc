#include "profile/coverage.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sctrace {

namespace {

bool recorded(const Recording& rec, std::string_view name) {
  for (const auto& [arch, calls] : rec.syscalls)
    if (calls.count(std::string(name)) != 0) return true;
  return false;
}

// What static completion did about a class: the names it added, and the
// ones it found reachable but left out (sensitive).
std::string static_part(const Recording& rec, const CoverageClass& c) {
  // Not "static completion" here: with --static off nothing is said about it.
  if (rec.static_reach.empty()) return "not covered (no --static analysis in this recording)";
  std::vector<std::string_view> added, listed;
  for (const auto name : c.syscalls)
    for (const auto& [arch, reach] : rec.static_reach)
      if (const auto it = reach.find(std::string(name)); it != reach.end()) {
        (it->second.added ? added : listed).push_back(name);
        break;
      }
  if (added.empty() && listed.empty())
    return c.syscalls.size() == 1 ? "static completion did not find it reachable: not covered"
                                   : "static completion found none of them reachable: not covered";
  const std::string found =
      listed.empty() ? ""
                     : fmt::format("found {} reachable but did not add it (sensitive; --static all adds it)",
                                   fmt::join(listed, ", "));
  if (added.empty()) return "static completion " + found;
  return fmt::format("static completion added {}{}", fmt::join(added, ", "), found.empty() ? "" : "; " + found);
}

// "docker" or "podman" when the recorded command is an engine's line.
std::string_view engine_of(const Recording& rec) {
  if (rec.commands.empty() || rec.commands.front().empty()) return "";
  const std::string& argv0 = rec.commands.front().front();
  const std::string_view base = std::string_view(argv0).substr(argv0.rfind('/') + 1);
  for (const std::string_view engine : {"docker", "podman"})
    if (base == engine) return engine;
  return "";
}

}  // namespace

const std::vector<CoverageClass>& coverage_classes() {
  // A futex wait with a timeout looks like any other futex call: only the
  // names that always mean a sleep are counted.
  static const std::vector<CoverageClass> classes = {
      {"no sleep or timed wait was recorded", {"nanosleep", "clock_nanosleep"}, {"clock_nanosleep_time64"}},
      {"no signal was delivered to a handler", {"rt_sigreturn"}, {"sigreturn"}},
      {"no child process was reaped", {"wait4", "waitid"}, {"waitpid"}},
      {"no process exited by itself (no shutdown was recorded)", {"exit_group"}},
  };
  return classes;
}

std::vector<std::string> coverage_hints(const Recording& rec) {
  std::vector<std::string> lines;
  for (const auto& c : coverage_classes()) {
    bool seen = false;
    for (const auto name : c.syscalls) seen = seen || recorded(rec, name);
    for (const auto name : c.compat_syscalls) seen = seen || recorded(rec, name);
    if (seen) continue;
    lines.push_back(fmt::format("coverage: {} ({}); {}", c.missing, fmt::join(c.syscalls, ", "), static_part(rec, c)));
  }
  if (const std::string_view engine = engine_of(rec); !engine.empty())
    lines.push_back(fmt::format("coverage: `{0} exec` commands run under the same profile, and an admin tool the "
                                "workload never ran may fail with 'Operation not permitted': record them with "
                                "--exec-probe 'COMMAND' (repeatable)",
                                engine));
  return lines;
}

}  // namespace sctrace
