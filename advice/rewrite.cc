#include "advice/rewrite.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "advice/inspect.h"
#include "core/redact.h"

namespace sctrace {

using nlohmann::json;
using namespace advice;

namespace {

bool is_flag(const RunOption& o, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (o.name == n) return true;
  return false;
}

// -p [ip:]hostPort:containerPort[/proto] bound to every interface -> loopback.
std::optional<std::string> loopback_publish(const std::string& v) {
  if (v.empty() || v[0] == '[') return std::nullopt;
  size_t colons = std::count(v.begin(), v.end(), ':');
  if (colons == 0) return "127.0.0.1::" + v;
  if (colons == 1) return "127.0.0.1:" + v;
  std::string ip = v.substr(0, v.find(':'));
  if (ip.empty() || ip == "0.0.0.0") return "127.0.0.1" + v.substr(v.find(':'));
  return std::nullopt;
}

std::string ro_volume(const std::string& v) {
  const std::vector<std::string> parts = split_colons(v);
  if (parts.size() < 2 || parts[0].rfind('/', 0) != 0 || !sensitive_path(parts[0])) return v;
  if (parts.size() == 2) return v + ":ro";
  std::vector<std::string> opts;
  size_t s = 0;
  std::string o = parts[2];
  for (size_t i = 0; i <= o.size(); ++i)
    if (i == o.size() || o[i] == ',') {
      std::string t = o.substr(s, i - s);
      if (t != "rw" && t != "ro" && !t.empty()) opts.push_back(t);
      s = i + 1;
    }
  opts.push_back("ro");
  return parts[0] + ":" + parts[1] + ":" + join(opts, ",");
}

std::string yaml_str(const std::string& s) { return json(s).dump(); }

}  // namespace

RunLine run_line_from_inspect(const json& inspect) {
  RunLine l;
  l.prefix = {"docker", "run"};
  const json& hc = field(inspect, "HostConfig");
  if (field(hc, "Privileged").is_boolean() && field(hc, "Privileged").get<bool>()) l.options.push_back({"privileged", {}});
  for (const char* k : {"NetworkMode", "PidMode", "IpcMode", "UTSMode"}) {
    std::string v = str_field(hc, k);
    static const std::map<std::string, std::string> flag = {
        {"NetworkMode", "network"}, {"PidMode", "pid"}, {"IpcMode", "ipc"}, {"UTSMode", "uts"}};
    if (!v.empty() && v != "default" && !(std::string(k) == "IpcMode" && (v == "private" || v == "shareable")))
      l.options.push_back({flag.at(k), v});
  }
  const json& pb = field(hc, "PortBindings");
  if (pb.is_object())
    for (auto it = pb.begin(); it != pb.end(); ++it)
      if (it->is_array())
        for (const auto& b : *it)
          l.options.push_back({"publish", fmt::format("{}:{}:{}", str_field(b, "HostIp"), str_field(b, "HostPort"),
                                                      it.key())});
  for (const auto& b : str_list(field(hc, "Binds"))) l.options.push_back({"volume", b});
  for (const auto& c : str_list(field(hc, "CapAdd"))) l.options.push_back({"cap-add", c});
  for (const auto& c : str_list(field(hc, "CapDrop"))) l.options.push_back({"cap-drop", c});
  for (const auto& s : str_list(field(hc, "SecurityOpt"))) l.options.push_back({"security-opt", s});
  std::string user = str_field(field(inspect, "Config"), "User");
  if (!user.empty()) l.options.push_back({"user", user});
  l.image = str_field(field(inspect, "Config"), "Image");
  return l;
}

std::vector<std::string> hardened_argv(const RunLine& line, const HardeningPlan& plan, const json& inspect) {
  std::vector<std::string> out = line.prefix;
  bool host_net = false;
  bool publish_all = false;
  std::set<std::string> tmpfs_given;
  bool has_memory = false, has_cpus = false, has_pids = false;
  const std::vector<int> exposed = exposed_tcp_ports(inspect);
  auto emit = [&](const std::string& name, const std::optional<std::string>& value) {
    if (name.size() == 1) {
      out.push_back("-" + name);
      if (value) out.push_back(*value);
    } else {
      out.push_back(value ? fmt::format("--{}={}", name, *value) : "--" + name);
    }
  };
  for (const auto& o : line.options) {
    std::string v = o.value.value_or("");
    if (is_flag(o, {"privileged", "cap-add", "cap-drop"})) continue;
    // --network host goes only when there are ports to publish instead (the
    // image's EXPOSE); which ports a service binds is not in the recording.
    if (is_flag(o, {"network", "net"}) && v == "host" && !exposed.empty()) {
      host_net = true;
      continue;
    }
    if (is_flag(o, {"pid", "ipc", "uts"}) && v == "host") continue;
    if (is_flag(o, {"publish-all", "P"}) && v != "false") {
      publish_all = true;
      continue;
    }
    if (is_flag(o, {"security-opt"})) {
      std::string key = v.substr(0, v.find_first_of("=:"));
      if (key == "no-new-privileges" && plan.no_new_privileges) continue;
      if (key == "seccomp" && (!plan.seccomp_profile.empty() || v.find("unconfined") != std::string::npos)) continue;
      if ((key == "apparmor" || key == "systempaths") && v.find("unconfined") != std::string::npos) continue;
      if (key == "label" && v.find("disable") != std::string::npos) continue;
    }
    if (is_flag(o, {"read-only"}) && plan.read_only) continue;
    if (is_flag(o, {"user", "u"}) && plan.user) continue;
    if (is_flag(o, {"publish", "p"})) {
      if (auto lo = loopback_publish(v)) {
        emit(o.name, *lo);
        continue;
      }
    }
    if (is_flag(o, {"volume", "v"})) {
      emit(o.name, ro_volume(v));
      continue;
    }
    if (is_flag(o, {"env", "e"}) && v.find('=') != std::string::npos &&
        looks_like_secret(v.substr(0, v.find('=')), v.substr(v.find('=') + 1))) {
      // The value stays off the command line (and out of reports): docker
      // takes it from the caller's environment.
      emit(o.name, v.substr(0, v.find('=')));
      continue;
    }
    if (is_flag(o, {"tmpfs"})) tmpfs_given.insert(v.substr(0, v.find(':')));
    if (is_flag(o, {"memory", "m"})) has_memory = true;
    if (is_flag(o, {"cpus", "cpu-quota", "cpu-period"})) has_cpus = true;
    if (is_flag(o, {"pids-limit"})) has_pids = true;
    emit(o.name, o.value);
  }
  out.push_back("--cap-drop=ALL");
  for (const auto& c : plan.cap_add) out.push_back("--cap-add=" + c);
  if (plan.no_new_privileges) out.push_back("--security-opt=no-new-privileges");
  if (!plan.seccomp_profile.empty()) out.push_back("--security-opt=seccomp=" + plan.seccomp_profile);
  if (plan.read_only) {
    out.push_back("--read-only");
    for (const auto& t : plan.tmpfs)
      if (!tmpfs_given.count(t)) out.push_back("--tmpfs=" + t);
  }
  if (plan.user) out.push_back("--user=" + *plan.user);
  if (plan.set_memory && !has_memory) out.push_back("--memory=512m");
  if (plan.set_cpus && !has_cpus) out.push_back("--cpus=1");
  if (plan.set_pids && !has_pids) out.push_back("--pids-limit=256");
  if (host_net || publish_all)
    for (int p : exposed) out.push_back(fmt::format("--publish=127.0.0.1:{}:{}", host_net ? p : 0, p));
  out.push_back(line.image);
  out.insert(out.end(), line.args.begin(), line.args.end());
  // "--publish=127.0.0.1:0:80" is not valid docker syntax: an empty host port is.
  for (auto& a : out)
    if (a.rfind("--publish=127.0.0.1:0:", 0) == 0) a = "--publish=127.0.0.1::" + a.substr(22);
  return out;
}

std::string compose_yaml(const HardeningPlan& plan, const RunLine& line, const json& inspect) {
  std::string y = "services:\n  app:\n";
  y += fmt::format("    image: {}\n", yaml_str(line.image.empty() ? str_field(field(inspect, "Config"), "Image")
                                                                   : line.image));
  if (plan.user) y += fmt::format("    user: {}\n", yaml_str(*plan.user));
  if (plan.read_only) {
    y += "    read_only: true\n";
    if (!plan.tmpfs.empty()) {
      y += "    tmpfs:\n";
      for (const auto& t : plan.tmpfs) y += fmt::format("      - {}\n", yaml_str(t));
    }
  }
  y += "    cap_drop:\n      - ALL\n";
  if (!plan.cap_add.empty()) {
    y += "    cap_add:\n";
    for (const auto& c : plan.cap_add) y += fmt::format("      - {}\n", c);
  }
  y += "    security_opt:\n";
  if (plan.no_new_privileges) y += "      - \"no-new-privileges:true\"\n";
  if (!plan.seccomp_profile.empty()) y += fmt::format("      - {}\n", yaml_str("seccomp:" + plan.seccomp_profile));
  else if (!plan.no_new_privileges) y += "      []\n";
  if (plan.set_memory) y += "    mem_limit: 512m\n";
  if (plan.set_cpus) y += "    cpus: 1.0\n";
  if (plan.set_pids) y += "    pids_limit: 256\n";
  std::vector<std::string> ports;
  auto argv = hardened_argv(line, plan, inspect);
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--publish=", 0) == 0) ports.push_back(a.substr(10));
    else if ((a == "-p" || a == "--publish") && i + 1 < argv.size()) ports.push_back(argv[i + 1]);
    if (a == line.image) break;
  }
  if (!ports.empty()) {
    y += "    ports:\n";
    for (const auto& p : ports) y += fmt::format("      - {}\n", yaml_str(p));
  }
  return y;
}

std::string k8s_security_context_yaml(const HardeningPlan& plan) {
  std::string y = "securityContext:\n";
  if (plan.user) {
    std::string u = plan.user->substr(0, plan.user->find(':'));
    std::string g = plan.user->find(':') == std::string::npos ? u : plan.user->substr(plan.user->find(':') + 1);
    y += fmt::format("  runAsNonRoot: true\n  runAsUser: {}\n  runAsGroup: {}\n", u, g);
  }
  y += "  privileged: false\n";
  y += fmt::format("  allowPrivilegeEscalation: {}\n", plan.no_new_privileges ? "false" : "true");
  y += fmt::format("  readOnlyRootFilesystem: {}\n", plan.read_only ? "true" : "false");
  y += "  capabilities:\n    drop:\n      - ALL\n";
  if (!plan.cap_add.empty()) {
    y += "    add:\n";
    for (const auto& c : plan.cap_add) y += fmt::format("      - {}\n", c);
  }
  if (!plan.seccomp_profile.empty()) {
    std::string base = plan.seccomp_profile.substr(plan.seccomp_profile.rfind('/') + 1);
    y += fmt::format("  seccompProfile:\n    type: Localhost\n    localhostProfile: {}\n", yaml_str("profiles/" + base));
  }
  if (plan.read_only && !plan.tmpfs.empty()) {
    y += "# the pod needs an emptyDir volume (medium: Memory) mounted at each of:";
    for (const auto& t : plan.tmpfs) y += " " + t;
    y += "\n";
  }
  return y;
}

}  // namespace sctrace
