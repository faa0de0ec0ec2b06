#pragma once
// Reading the engine's inspect answer (GET /containers/ID/json) for the
// advice: tolerant accessors (a missing or mistyped field reads as empty) and
// the few facts several rules need. Internal to advice/.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sctrace::advice {

const nlohmann::json& field(const nlohmann::json& j, const char* key);  // null when absent
std::string str_field(const nlohmann::json& j, const char* key);        // "" when absent or not a string
int64_t int_field(const nlohmann::json& j, const char* key);            // 0 when absent or not a number
bool bool_field(const nlohmann::json& j, const char* key);              // false when absent or not a boolean
std::vector<std::string> str_list(const nlohmann::json& j);             // the strings of an array

std::string join(const std::vector<std::string>& v, std::string_view sep);
std::vector<std::string> split_colons(const std::string& v);  // "a:b:c" -> {"a", "b", "c"}, as a volume spec is read

// The uid and gid the container starts as: Config.User "", "root", "0",
// "uid:gid"; -1 when it is a name only /etc/passwd of the image could resolve.
std::pair<int64_t, int64_t> configured_ids(const nlohmann::json& inspect);
bool runs_as_root(const nlohmann::json& inspect);

// Container ports (tcp/udp) from ExposedPorts and PortBindings.
std::set<int> container_ports(const nlohmann::json& inspect);
// The image's EXPOSEd tcp ports, in the order the engine lists them.
std::vector<int> exposed_tcp_ports(const nlohmann::json& inspect);

// HostConfig's NetworkMode / PidMode / IpcMode / UTSMode is "host".
bool host_mode(const nlohmann::json& hc, const char* key);

// HostConfig.SecurityOpt has `key` (bare, or "key=value" / "key:value"); with
// a value, only that value matches ("true" also matches the bare key).
bool has_security_opt(const nlohmann::json& hc, std::string_view key, std::string_view value);

// A host path whose exposure matters: /, /etc, /proc, /sys, the docker socket, ...
bool sensitive_path(const std::string& src);

struct Mount {
  std::string type, source, destination;
  bool rw = true;
};
// Mounts, or HostConfig.Binds for an answer from before the daemon resolved them.
std::vector<Mount> mounts(const nlohmann::json& inspect);

}  // namespace sctrace::advice
