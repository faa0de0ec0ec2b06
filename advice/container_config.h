#pragma once
// The privileges a container is configured with: its capability (bounding)
// set and no-new-privileges, derived once here from whichever description
// sctrace has of it:
//   - the engine's inspect answer (GET /containers/ID/json: HostConfig),
//   - the options of a `docker run` / `podman run` line (plain data: the
//     caller parses the line, so this library needs no container engine),
//   - an OCI bundle's config.json (process.capabilities, process.noNewPrivileges).
// The template's includes/excludes are evaluated against this set, and the
// hardening advice starts from it.
//
// The engines' rules (moby oci/caps TweakCapabilities; podman's
// MergeCapabilities agrees): --privileged grants every capability and ignores
// --cap-add/--cap-drop; --cap-add ALL grants every capability except those
// --cap-drop names; otherwise --cap-drop ALL empties the default set before
// --cap-add; otherwise the default set minus --cap-drop plus --cap-add.
// Names are case-insensitive, with or without "CAP_".
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sctrace {

// Every capability Linux defines as of 6.x, "CAP_AUDIT_CONTROL" ..., sorted:
// what --privileged and --cap-add ALL grant.
const std::vector<std::string>& all_capabilities();

// "net_admin", "Cap_Net_Admin", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; any
// spelling of "all" -> "ALL".
std::string canonical_cap(std::string_view name);
// "CAP_NET_ADMIN" (any spelling) -> "NET_ADMIN", Docker's CLI spelling.
std::string short_cap(std::string_view name);

// The options of a run line (or a HostConfig) that decide the privileges.
struct ContainerFlags {
  std::vector<std::string> cap_add, cap_drop;  // as given, in order
  bool privileged = false;
  std::vector<std::string> security_opts;      // as given, in order
};

struct ContainerConfig {
  std::set<std::string> caps;  // the bounding set, "CAP_CHOWN", ...
  bool no_new_privileges = false;
  bool privileged = false;
};

// From a run line's options.
ContainerConfig container_config(const ContainerFlags& flags);
// HostConfig's CapAdd, CapDrop, Privileged and SecurityOpt.
ContainerFlags container_flags_from_inspect(const nlohmann::json& inspect);
// From an inspect answer; Docker's default set when it is not an object (a
// run interrupted before the container existed).
ContainerConfig container_config_from_inspect(const nlohmann::json& inspect);
// From an OCI config.json: process.capabilities.bounding (none when absent)
// and process.noNewPrivileges.
ContainerConfig container_config_from_oci(const nlohmann::json& config);

// Whether a list of --security-opt values sets no-new-privileges: the bare
// option, or "=" / ":" and a boolean as Go's strconv.ParseBool reads it; the
// last one given wins.
bool sets_no_new_privileges(const std::vector<std::string>& security_opts);

}  // namespace sctrace
