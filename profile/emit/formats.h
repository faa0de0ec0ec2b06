#pragma once
// One profile model, the shapes each consumer reads (`run --format`):
//   docker  Docker/moby JSON (--security-opt seccomp=FILE): to_docker_json.
//   podman  the same schema, read by containers/common (podman, CRI-O,
//           buildah): includes/excludes stay, podman evaluates them against its
//           own capability set.
//   oci     the runtime-spec `linux.seccomp` object (config.json), as Docker
//           hands it to runc: includes/excludes evaluated for one container
//           (EvalContext), archMap resolved into `architectures`.
//   k8s     a security-profiles-operator SeccompProfile (v1beta1) custom
//           resource in YAML: the OCI shape under `spec` (SPO has no
//           defaultErrnoRet and carries errnoRet as a string). Beside it, the
//           Docker JSON that kubelet reads for
//           securityContext.seccompProfile {type: Localhost, localhostProfile}
//           (see k8s_localhost_path).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/seccomp_profile.h"

namespace sctrace {

enum class ProfileFormat { docker, podman, oci, k8s };

// "docker", "podman", "oci", "k8s"; throws Error(usage) for anything else.
ProfileFormat profile_format_from_name(std::string_view name);

// The runtime-spec linux.seccomp object for a container described by ctx.
nlohmann::ordered_json to_oci_seccomp(const SeccompProfile& profile, const EvalContext& ctx);
// Pretty JSON of to_oci_seccomp with a trailing newline.
std::string to_oci_json(const SeccompProfile& profile, const EvalContext& ctx);

// The SeccompProfile resource. `name` must be a DNS-1123 subdomain (see
// k8s_name_for); the profile's defaultErrnoRet cannot be expressed by SPO: a
// value other than EPERM (which SPO's consumers use) is reported in `notes`.
std::string to_k8s_yaml(const SeccompProfile& profile, const EvalContext& ctx, const std::string& name,
                        std::vector<std::string>* notes = nullptr);
// metadata.name from an output path: "out/My_Profile.yaml" -> "my-profile".
std::string k8s_name_for(const std::string& output_path);
// Where `--format k8s -o P` puts the plain profile for kubelet: P with its
// extension (.yaml/.yml) replaced by ".json", or P + ".json" when P has
// neither; copy it under /var/lib/kubelet/seccomp/ and name it in
// localhostProfile.
std::string k8s_localhost_path(const std::string& output_path);
// The file `docker run --security-opt seccomp=` can read after `run -o OUTPUT
// --format F`: OUTPUT itself for docker and podman (one schema) and for oci
// (the engine's loader takes `architectures` as well as archMap), the plain
// JSON beside the YAML for k8s. Throws Error(usage) for an unknown format.
std::string docker_readable_path(std::string_view format, const std::string& output);

struct ProfileFile {
  std::string path;
  std::string text;
};
// The files `run -o OUTPUT --format F` writes, first the one named OUTPUT.
// notes: anything the format could not carry.
std::vector<ProfileFile> format_profile(const SeccompProfile& profile, const EvalContext& ctx, ProfileFormat format,
                                        const std::string& output, std::vector<std::string>* notes = nullptr);

// The paths `run -o OUTPUT --format NAME` writes (to check_writable them
// before tracing). Throws Error(usage) for an unknown format.
std::vector<std::string> profile_paths(std::string_view format, const std::string& output);
// Writes format_profile's files (write_file_atomic) and returns lines for the
// user: what a format could not carry, and where the k8s plain profile went.
std::vector<std::string> write_profile(const SeccompProfile& profile, const EvalContext& ctx, std::string_view format,
                                       const std::string& output);

}  // namespace sctrace
