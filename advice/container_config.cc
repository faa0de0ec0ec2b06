#include "advice/container_config.h"
#include "advice/inspect.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/text.h"
#include "profile/templates.h"

namespace sctrace {

using nlohmann::json;

namespace {

const json& member(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::vector<std::string> canonical(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(canonical_cap(n));
  return out;
}

}  // namespace

const std::vector<std::string>& all_capabilities() {
  static const std::vector<std::string> caps = [] {
    std::vector<std::string> v = {
        "CAP_AUDIT_CONTROL",   "CAP_AUDIT_READ",      "CAP_AUDIT_WRITE",   "CAP_BLOCK_SUSPEND",
        "CAP_BPF",             "CAP_CHECKPOINT_RESTORE", "CAP_CHOWN",      "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH", "CAP_FOWNER",          "CAP_FSETID",        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",       "CAP_KILL",            "CAP_LEASE",         "CAP_LINUX_IMMUTABLE",
        "CAP_MAC_ADMIN",       "CAP_MAC_OVERRIDE",    "CAP_MKNOD",         "CAP_NET_ADMIN",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",  "CAP_NET_RAW",       "CAP_PERFMON",
        "CAP_SETFCAP",         "CAP_SETGID",          "CAP_SETPCAP",       "CAP_SETUID",
        "CAP_SYSLOG",          "CAP_SYS_ADMIN",       "CAP_SYS_BOOT",      "CAP_SYS_CHROOT",
        "CAP_SYS_MODULE",      "CAP_SYS_NICE",        "CAP_SYS_PACCT",     "CAP_SYS_PTRACE",
        "CAP_SYS_RAWIO",       "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",
        "CAP_WAKE_ALARM"};
    std::sort(v.begin(), v.end());
    return v;
  }();
  return caps;
}

std::string canonical_cap(std::string_view name) {
  std::string c(name);
  for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  // The engines reject "CAP_ALL"; taking it as ALL keeps a literal "CAP_ALL"
  // out of every capability set.
  if (c == "ALL" || c == "CAP_ALL") return "ALL";
  return c.rfind("CAP_", 0) == 0 ? c : "CAP_" + c;
}

std::string short_cap(std::string_view name) {
  std::string c = canonical_cap(name);
  return c.rfind("CAP_", 0) == 0 ? c.substr(4) : c;
}

bool sets_no_new_privileges(const std::vector<std::string>& security_opts) {
  constexpr std::string_view key = "no-new-privileges";
  bool on = false;
  for (const auto& s : security_opts) {
    if (s == key) {
      on = true;
    } else if (s.size() > key.size() && s.compare(0, key.size(), key) == 0 &&
               (s[key.size()] == '=' || s[key.size()] == ':')) {
      // A value the engine cannot read makes it refuse the container; taken
      // as unset here.
      on = parse_go_bool(std::string_view(s).substr(key.size() + 1)).value_or(false);
    }
  }
  return on;
}

ContainerConfig container_config(const ContainerFlags& flags) {
  ContainerConfig cfg;
  cfg.privileged = flags.privileged;
  cfg.no_new_privileges = sets_no_new_privileges(flags.security_opts);
  const std::vector<std::string>& all = all_capabilities();
  if (flags.privileged) {
    cfg.caps.insert(all.begin(), all.end());
    return cfg;
  }
  const std::vector<std::string> add = canonical(flags.cap_add);
  const std::vector<std::string> drop = canonical(flags.cap_drop);
  if (contains(add, "ALL")) {
    for (const auto& c : all)
      if (!contains(drop, c)) cfg.caps.insert(c);
    return cfg;
  }
  if (!contains(drop, "ALL")) {
    for (const auto& c : docker_default_caps())
      if (!contains(drop, c)) cfg.caps.insert(c);
  }
  cfg.caps.insert(add.begin(), add.end());
  return cfg;
}

ContainerFlags container_flags_from_inspect(const json& inspect) {
  const json& hc = member(inspect, "HostConfig");
  ContainerFlags f;
  f.cap_add = advice::str_list(member(hc, "CapAdd"));
  f.cap_drop = advice::str_list(member(hc, "CapDrop"));
  const json& priv = member(hc, "Privileged");
  f.privileged = priv.is_boolean() && priv.get<bool>();
  f.security_opts = advice::str_list(member(hc, "SecurityOpt"));
  return f;
}

ContainerConfig container_config_from_inspect(const json& inspect) {
  if (!inspect.is_object()) return container_config(ContainerFlags{});
  return container_config(container_flags_from_inspect(inspect));
}

ContainerConfig container_config_from_oci(const json& config) {
  ContainerConfig cfg;
  const json& process = member(config, "process");
  for (const auto& c : advice::str_list(member(member(process, "capabilities"), "bounding"))) cfg.caps.insert(canonical_cap(c));
  const json& nnp = member(process, "noNewPrivileges");
  cfg.no_new_privileges = nnp.is_boolean() && nnp.get<bool>();
  return cfg;
}

}  // namespace sctrace
