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
#include "session/outputs.h"

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
int cmd_harvest(const Options& o);    // cli/cmd_harvest.cc
int cmd_verify_container(const Options& o);  // cli/cmd_verify.cc
// The container session for o.workload with o's probes, --duration and
// --timeout (cli/cmd_podman.cc); callers add what they need (sensor,
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

using sctrace::check_distinct_outputs;  // session/outputs.h

// One "sctrace: ..." line on stderr.
void say(const std::string& line);

}  // namespace sctrace::cli
