#pragma once
#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "profile/profile_input.h"
#include "profile/seccomp_profile.h"

namespace sctrace {
struct Recording;
}
namespace sctrace::container {
struct SessionOptions;  // tracer/container/session.h
}

namespace sctrace::cli {

// Each returns the process exit code; failures throw sctrace::Error.
int cmd_run(const Options& o);
int cmd_merge(const Options& o);
int cmd_verify(const Options& o);
int cmd_enforce(const Options& o);
int cmd_check(const Options& o);      // cli/cmd_check.cc
int cmd_explain(const Options& o);    // cli/cmd_explain.cc
int cmd_diff(const Options& o);       // cli/cmd_explain.cc
int cmd_calibrate(const Options& o);  // cli/cmd_calibrate.cc
int cmd_run_container(const Options& o, const SeccompProfile& tmpl);
int cmd_verify_container(const Options& o);
// `sctrace run -- podman|docker run ...` through the runtime's seccomp agent
// (listenerPath), no sensor; batch containers and services (probes) alike.
// why: select_backend's, for the backend line (cli/cmd_podman.cc).
int cmd_run_notify_container(const Options& o, const SeccompProfile& tmpl, const std::string& why);
// `sctrace run -- runc run [-b BUNDLE] ID` the same way (cli/cmd_podman.cc).
int cmd_run_runc(const Options& o, const SeccompProfile& tmpl);
// The container session for o.workload with o's probes, --duration and
// --timeout (cli/cmd_container.cc); callers add what they need (sensor,
// profile, watch filter).
container::SessionOptions session_options(const Options& o);

// The bundled Docker default, or the file given with --template.
SeccompProfile load_template(const std::string& path);
SeccompProfile load_profile_file(const std::string& path);
// The same, keeping the file's text and its shape (container verify hands a
// Docker-shaped file to Docker as it is). Read and parsed once.
struct LoadedProfile {
  std::string text;
  ProfileInput input;
};
LoadedProfile load_profile_input(const std::string& path);

// Where `run` writes its profile and recording. A complete run writes what
// it was told to; an incomplete one (interrupted, timed out, a probe failed)
// never replaces a profile or recording that is already there: when one of
// them exists as a regular file, all of them go beside it with ".incomplete"
// before the extension (profile.incomplete.json), and that is said.
struct RunOutputs {
  std::string output;     // the profile (and, for --format k8s, its JSON sibling)
  std::string recording;  // may be empty
};
RunOutputs run_outputs(const Options& o, bool complete);

// Refuses two outputs that name the same file ({option, path} pairs; empty
// paths are skipped): the second write would silently replace the first.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

// What a compiled profile answers NAME on the native arch (arguments 0)
// when it does not let it run (the whole SECCOMP_RET_* value); nullopt when
// it runs. verify, check --enforce and enforce ask it about execve first: a
// workload that cannot even start is a verdict, not an error (cli/cmd_verify.cc).
std::optional<uint32_t> refused_natively(const std::vector<sock_filter>& prog, std::string_view name);

// One "sctrace: ..." line on stderr.
void say(const std::string& line);
// The line for a container's own status after sctrace's planned stop (the
// service stopped once its probes passed): reported, not returned.
std::string planned_stop_line(int container_code);
// One line per call the tracer refused because it aimed at the tracer itself.
void say_refusals(const Recording& rec);

}  // namespace sctrace::cli
