#include "advice/inspect.h"

#include <algorithm>
#include <cctype>

namespace sctrace::advice {

using nlohmann::json;

const json& field(const json& j, const char* key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

std::string str_field(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t int_field(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_number() ? v.get<int64_t>() : 0;
}

bool bool_field(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_boolean() && v.get<bool>();
}

std::vector<std::string> str_list(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::vector<std::string> split_colons(const std::string& v) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= v.size(); ++i)
    if (i == v.size() || v[i] == ':') {
      parts.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  return parts;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::pair<int64_t, int64_t> configured_ids(const json& inspect) {
  std::string user = str_field(field(inspect, "Config"), "User");
  std::string u = user, g;
  if (auto colon = user.find(':'); colon != std::string::npos) {
    u = user.substr(0, colon);
    g = user.substr(colon + 1);
  }
  auto num = [](const std::string& s, int64_t root_default) -> int64_t {
    if (s.empty() || s == "root") return root_default;
    if (std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return std::stoll(s);
    return -1;
  };
  int64_t uid = num(u, 0);
  int64_t gid = g.empty() ? (uid == 0 ? 0 : -1) : num(g, 0);
  return {uid, gid};
}

bool runs_as_root(const json& inspect) { return configured_ids(inspect).first == 0; }

std::set<int> container_ports(const json& inspect) {
  std::set<int> ports;
  auto add_keys = [&](const json& obj) {
    if (!obj.is_object()) return;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      try {
        ports.insert(std::stoi(it.key()));
      } catch (...) {
      }
    }
  };
  add_keys(field(field(inspect, "Config"), "ExposedPorts"));
  add_keys(field(field(inspect, "HostConfig"), "PortBindings"));
  return ports;
}

std::vector<int> exposed_tcp_ports(const json& inspect) {
  std::vector<int> out;
  const json& e = field(field(inspect, "Config"), "ExposedPorts");
  if (e.is_object())
    for (auto it = e.begin(); it != e.end(); ++it)
      if (it.key().find("/udp") == std::string::npos) {
        try {
          out.push_back(std::stoi(it.key()));
        } catch (...) {
        }
      }
  return out;
}

bool host_mode(const json& hc, const char* key) { return str_field(hc, key) == "host"; }

bool has_security_opt(const json& hc, std::string_view key, std::string_view value) {
  for (const auto& s : str_list(field(hc, "SecurityOpt"))) {
    if (s == key) return value.empty() || value == "true";
    for (char sep : {'=', ':'})
      if (s.size() > key.size() && s.compare(0, key.size(), key) == 0 && s[key.size()] == sep &&
          (value.empty() || s.substr(key.size() + 1) == value))
        return true;
  }
  return false;
}

bool sensitive_path(const std::string& src) {
  static const std::vector<std::string> roots = {"/etc", "/proc", "/sys",  "/boot",
                                                 "/dev", "/root", "/home", "/var/run/docker.sock",
                                                 "/run/docker.sock"};
  std::string p = src;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/") return true;
  for (const auto& r : roots)
    if (p == r || p.rfind(r + "/", 0) == 0) return true;
  return false;
}

std::vector<Mount> mounts(const json& inspect) {
  std::vector<Mount> out;
  const json& m = field(inspect, "Mounts");
  if (m.is_array() && !m.empty()) {
    for (const auto& e : m)
      out.push_back({str_field(e, "Type"), str_field(e, "Source"), str_field(e, "Destination"),
                     !field(e, "RW").is_boolean() || field(e, "RW").get<bool>()});
    return out;
  }
  for (const auto& b : str_list(field(field(inspect, "HostConfig"), "Binds"))) {
    const std::vector<std::string> parts = split_colons(b);
    if (parts.size() < 2) continue;
    bool ro = parts.size() > 2 && parts[2].find("ro") != std::string::npos;
    out.push_back({parts[0].rfind('/', 0) == 0 ? "bind" : "volume", parts[0], parts[1], !ro});
  }
  return out;
}

}  // namespace sctrace::advice
