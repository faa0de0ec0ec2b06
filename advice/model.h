#pragma once
// What the hardening advice says: the capabilities a workload needs (with the
// evidence), the findings on its line, the plan the hardened command applies.
// Plain data: the report emitters read it with nothing else of advice/ linked.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sctrace {

enum class Severity { high, medium, low };

inline std::string_view severity_name(Severity s) {  // "high", ...
  switch (s) {
    case Severity::high: return "high";
    case Severity::medium: return "medium";
    case Severity::low: return "low";
  }
  return "low";
}

inline std::optional<Severity> severity_from_name(std::string_view n) {  // nullopt when unknown
  if (n == "high") return Severity::high;
  if (n == "medium") return Severity::medium;
  if (n == "low") return Severity::low;
  return std::nullopt;
}

// One `docker run` option as parsed by the CLI (the rewrite keeps every
// option it does not understand as it was).
struct RunOption {
  std::string name;                  // long name ("publish"), or the letter of a shorthand-only flag
  std::optional<std::string> value;  // unset for a boolean given without a value
  bool operator==(const RunOption&) const = default;
};

struct RunLine {
  std::vector<std::string> prefix;  // {"docker", "run"} / {"docker", "container", "run"}
  std::vector<RunOption> options;
  std::string image;
  std::vector<std::string> args;  // the container's COMMAND and ARGs
};

struct CapEvidence {
  std::string capability;  // "SETUID" (Docker's spelling, no CAP_ prefix)
  std::string syscall;     // "setuid", or "" when the evidence is the configuration
  std::string args;        // "arg0=65534", "" when none
  pid_t first_pid = 0;
  std::string rule;        // why this is evidence
};

struct Finding {
  std::string id;  // "privileged", "host-network", ...
  Severity severity = Severity::medium;
  std::string message;
  std::string fix;
  bool fixed_in_command = false;  // the hardened command applies the fix
};

// What the hardened command sets; the verification loop edits it and asks for
// the command again.
struct HardeningPlan {
  std::vector<std::string> cap_add;  // sorted, without CAP_
  bool no_new_privileges = true;
  bool read_only = false;
  std::vector<std::string> tmpfs;  // mount points, with --read-only
  std::optional<std::string> user;  // "65534:65534" when root was not needed
  std::string seccomp_profile;      // path; empty = leave seccomp as it was
  bool set_memory = false, set_cpus = false, set_pids = false;  // limits to add
};

struct HardeningReport {
  std::string image;
  std::vector<std::string> cap_add;   // what the workload needs, sorted
  std::vector<std::string> cap_drop;  // what it had and does not need, sorted
  std::vector<CapEvidence> evidence;
  std::vector<std::string> notes;     // rules that could not be decided from the recording
  std::vector<Finding> findings;      // each id once, high first
  HardeningPlan plan;
  std::vector<std::string> hardened_command;
  std::string compose_yaml;
  std::string k8s_yaml;
};

}  // namespace sctrace
