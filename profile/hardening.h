#pragma once
// Least privilege beyond seccomp: from a container-mode recording and the
// container's `docker inspect`, which capabilities the workload showed it
// needs, what in its `docker run` line weakens isolation, and the hardened
// line (plus compose and Kubernetes equivalents).
//
// Pure analysis: the inspect answer is plain JSON, nothing here talks to a
// daemon. What a recording cannot show (pointer arguments such as paths and
// socket addresses, file ownership) is inferred from the configuration or left
// to the verification run, and every such rule says so in its evidence.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/recording.h"
#include "profile/seccomp_profile.h"

namespace sctrace {

enum class Severity { high, medium, low };
std::string_view severity_name(Severity s);                    // "high", ...
std::optional<Severity> severity_from_name(std::string_view);  // nullopt when unknown

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

struct HardeningInput {
  const Recording* recording = nullptr;
  const nlohmann::json* inspect = nullptr;  // GET /containers/ID/json as the user's line made it
  const SeccompProfile* tmpl = nullptr;     // the template the profile was cut from
  std::optional<RunLine> line;              // the user's line; without it the command is built from inspect
  std::string seccomp_profile_path;         // the generated profile, for the hardened command
  // GET /containers/ID/changes of the traced run ([{Path, Kind}]); null = unknown.
  nlohmann::json changes;
  // The daemon sets net.ipv4.ip_unprivileged_port_start=0 in the container's
  // own network namespace (Docker >= 20.10), so binding a port < 1024 needs
  // no capability unless the container shares the host's network.
  bool unprivileged_low_ports = false;
  // setuid/setgid files found in the container's filesystem; unset = not scanned.
  std::optional<std::vector<std::string>> setid_files;
};

HardeningReport analyze_hardening(const HardeningInput& in);

// The container's capability set as configured (Docker's defaults, --cap-drop,
// --cap-add, --privileged = all), without CAP_, sorted.
std::vector<std::string> configured_caps(const nlohmann::json& inspect);

// The hardened command for a plan: the user's options minus those the plan
// replaces, then the plan's own. Deterministic.
std::vector<std::string> hardened_argv(const RunLine& line, const HardeningPlan& plan, const nlohmann::json& inspect);

// A RunLine rebuilt from an inspect answer, for when the user's line is unknown
// (the image, its command and the few options the rewrite cares about).
RunLine run_line_from_inspect(const nlohmann::json& inspect);

std::string compose_yaml(const HardeningPlan& plan, const RunLine& line, const nlohmann::json& inspect);
std::string k8s_security_context_yaml(const HardeningPlan& plan);

// An environment variable that looks like a secret: its name (PASSWORD,
// SECRET, TOKEN, KEY, ...) or its value (PEM, cloud key prefixes, long
// random-looking strings). Empty values never are.
bool looks_like_secret(std::string_view name, std::string_view value);
// A command line to keep in a recording or report: each `-e/--env NAME=VALUE`
// whose value looks secret becomes `NAME` alone (the value never reaches a
// file that gets committed); everything else as it is.
std::vector<std::string> without_secrets(const std::vector<std::string>& argv);

// The report's findings at or above `threshold`.
size_t count_at_or_above(const HardeningReport& r, Severity threshold);

}  // namespace sctrace
