#pragma once
// Every profile shape sctrace writes (`run --format`), read back into the one
// model: the single place that decides what a profile file is. Used for
// --profile (verify, enforce, check), --template and diff inputs.
//
//   docker      Docker/moby JSON (podman reads the same schema)
//   oci         a bare runtime-spec linux.seccomp object (the same field names;
//               no archMap, includes or excludes)
//   oci_config  a whole runtime-spec config.json: its linux.seccomp
//   k8s         a security-profiles-operator SeccompProfile resource, as YAML
//               or as JSON (kubectl get -o json): its spec, with errnoRet as a
//               number or a string
// Any of them may be written in YAML or JSON: a file whose first character is
// '{' or '[' is JSON, anything else YAML (profile/yaml.h's subset).
#include <string>
#include <string_view>
#include <vector>

#include "profile/seccomp_profile.h"

namespace sctrace {

enum class ProfileShape { docker, oci, oci_config, k8s };

// "Docker profile", "OCI linux.seccomp", "runtime-spec config.json",
// "SeccompProfile resource".
std::string_view profile_shape_name(ProfileShape shape);

struct ProfileInput {
  SeccompProfile profile;
  ProfileShape shape = ProfileShape::docker;
  bool yaml = false;
  // What the model keeps but no consumer would act on (a disabled
  // SeccompProfile), for the user.
  std::vector<std::string> notes;
};

// Throws Error(ErrorKind::input), one line naming `source`: YAML errors name
// the line, profile errors the path inside the document ("p.yaml: spec:
// syscalls[2].names[0]: unknown syscall name 'x'"), an unknown shape what was
// expected.
ProfileInput parse_any_profile(std::string_view text, std::string_view source);

}  // namespace sctrace
