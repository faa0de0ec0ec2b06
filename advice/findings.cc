#include "advice/findings.h"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "advice/inspect.h"
#include "core/redact.h"

namespace sctrace {

using nlohmann::json;
using namespace advice;

namespace {

using Found = std::optional<Finding>;

Found found(Severity s, std::string message, std::string fix, bool fixed_in_command) {
  return Finding{"", s, std::move(message), std::move(fix), fixed_in_command};
}

std::string cap_add_flags(const std::vector<std::string>& caps) {
  return caps.empty() ? std::string() : " --cap-add=" + join(caps, " --cap-add=");
}

std::string parent_dir(const std::string& p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos || s == 0) return "/";
  return p.substr(0, s);
}

bool under(const std::string& p, const std::string& dir) {
  if (dir == "/") return true;
  return p == dir || (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/');
}

// The directories to put on tmpfs so that the changes a run made to the
// container's root filesystem land there instead. A changed entry with no
// changed entry below it is itself the written place (a directory whose
// entries came and went, or a file); an added or deleted entry means its
// parent directory was written. Ancestors absorb descendants.
std::vector<std::string> tmpfs_dirs(const std::vector<std::pair<std::string, int>>& changes) {
  std::set<std::string> cand;
  for (const auto& [p, kind] : changes) {
    if (kind == 0) {
      bool leaf = std::none_of(changes.begin(), changes.end(),
                               [&](const auto& o) { return o.first != p && under(o.first, p); });
      if (leaf) cand.insert(p);
    } else {
      std::string d = parent_dir(p);
      cand.insert(d == "/" ? p : d);
    }
  }
  std::vector<std::string> out;
  for (const auto& c : cand)
    if (std::none_of(cand.begin(), cand.end(), [&](const std::string& o) { return o != c && under(c, o); }))
      out.push_back(c);
  return out;
}

// ---- the rules ------------------------------------------------------------------

Found privileged(const RuleInput& in, RuleEffects&) {
  if (!in.config.privileged) return {};
  return found(Severity::high, "the container runs --privileged: every capability, every device, no seccomp, no AppArmor",
               fmt::format("remove --privileged; grant only --cap-drop=ALL{}", cap_add_flags(in.cap_add)), true);
}

Found host_network(const RuleInput& in, RuleEffects&) {
  if (!host_mode(in.hc, "NetworkMode")) return {};
  const std::vector<int> exposed = exposed_tcp_ports(in.inspect);
  std::vector<std::string> ports;
  for (int p : exposed) ports.push_back(std::to_string(p));
  return found(Severity::high, "the container shares the host's network namespace (--network host)",
               exposed.empty()
                   ? std::string("remove --network host and publish the ports it serves on a specific address "
                                 "(-p 127.0.0.1:PORT:PORT); not applied: the image exposes no port and the recording "
                                 "does not say which ones it binds")
                   : fmt::format("remove --network host and publish the ports it serves on a specific address; "
                                 "applied for the image's EXPOSEd port{} {} (-p 127.0.0.1:PORT:PORT): a service "
                                 "listening on another port needs its own -p",
                                 exposed.size() == 1 ? "" : "s", join(ports, ", ")),
               !exposed.empty());
}

Found host_pid(const RuleInput& in, RuleEffects&) {
  if (!host_mode(in.hc, "PidMode")) return {};
  return found(Severity::high,
               "the container shares the host's PID namespace (--pid host): it sees and can signal host processes",
               "remove --pid host", true);
}

Found host_ipc(const RuleInput& in, RuleEffects&) {
  if (!host_mode(in.hc, "IpcMode")) return {};
  return found(Severity::high, "the container shares the host's IPC namespace (--ipc host)", "remove --ipc host", true);
}

Found host_uts(const RuleInput& in, RuleEffects&) {
  if (!host_mode(in.hc, "UTSMode")) return {};
  return found(Severity::medium,
               "the container shares the host's UTS namespace (--uts host): it can change the host's hostname",
               "remove --uts host", true);
}

Found port_all_interfaces(const RuleInput& in, RuleEffects&) {
  std::vector<std::string> open;
  const json& pb = field(in.hc, "PortBindings");
  if (pb.is_object())
    for (auto it = pb.begin(); it != pb.end(); ++it)
      if (it->is_array())
        for (const auto& b : *it) {
          std::string ip = str_field(b, "HostIp");
          if (ip.empty() || ip == "0.0.0.0" || ip == "::")
            open.push_back(fmt::format("{}->{}", str_field(b, "HostPort").empty() ? "random" : str_field(b, "HostPort"),
                                       it.key()));
        }
  if (bool_field(in.hc, "PublishAllPorts")) open.push_back("all exposed ports (-P)");
  if (open.empty()) return {};
  return found(Severity::medium, fmt::format("published on every host interface: {}", join(open, ", ")),
               "bind to 127.0.0.1 or a specific address: -p 127.0.0.1:HOSTPORT:PORT", true);
}

Found link(const RuleInput& in, RuleEffects&) {
  auto links = str_list(field(in.hc, "Links"));
  if (links.empty()) return {};
  return found(Severity::medium,
               fmt::format("legacy --link ({}): shares the linked container's environment, secrets included",
                           join(links, ", ")),
               "remove --link; put both containers on a user-defined network (docker network create NET; --network "
               "NET) and use the container name as host name",
               false);
}

Found sensitive_mount(const RuleInput& in, RuleEffects&) {
  std::vector<std::string> sensitive;
  for (const auto& m : mounts(in.inspect))
    if (m.type == "bind" && sensitive_path(m.source))
      sensitive.push_back(fmt::format("{}:{}{}", m.source, m.destination, m.rw ? "" : ":ro"));
  if (sensitive.empty()) return {};
  return found(Severity::high, fmt::format("sensitive host path mounted: {}", join(sensitive, ", ")),
               "remove the mount, or mount only the file the workload needs, read-only (-v SRC:DST:ro); the hardened "
               "command makes it read-only",
               true);
}

Found writable_host_mount(const RuleInput& in, RuleEffects&) {
  std::vector<std::string> writable;
  for (const auto& m : mounts(in.inspect))
    if (m.type == "bind" && !sensitive_path(m.source) && m.rw)
      writable.push_back(fmt::format("{}:{}", m.source, m.destination));
  if (writable.empty()) return {};
  return found(Severity::medium, fmt::format("host directory mounted writable: {}", join(writable, ", ")),
               "mount it read-only (-v SRC:DST:ro) unless the workload writes there; prefer a named volume", false);
}

Found secret_env(const RuleInput& in, RuleEffects&) {
  std::vector<std::string> names;
  for (const auto& e : str_list(field(in.cfg, "Env"))) {
    size_t eq = e.find('=');
    std::string n = e.substr(0, eq), v = eq == std::string::npos ? "" : e.substr(eq + 1);
    if (v.empty()) continue;
    if (looks_like_secret(n, v)) names.push_back(n);
  }
  if (names.empty()) return {};
  return found(Severity::high,
               fmt::format("secret-looking environment variable{}: {} (visible to docker inspect and every process in "
                           "the container)",
                           names.size() == 1 ? "" : "s", join(names, ", ")),
               "pass secrets as files: a Docker/compose secret or a read-only bind of a 0400 file (-v /path/secret:/run/"
               "secrets/NAME:ro), and have the workload read them from there",
               false);
}

Found root_user(const RuleInput& in, RuleEffects& fx) {
  const bool uid_change = in.caps.needed.count("SETUID") || in.caps.needed.count("SETGID");
  if (!runs_as_root(in.inspect) || !in.cap_add.empty() || uid_change) return {};
  fx.plan.user = "65534:65534";
  return found(Severity::medium,
               "the container runs as root, and the recording shows nothing that needed root after start (no uid/gid "
               "change, chown, low-port bind or other capability use)",
               "run as an unprivileged user: --user 65534:65534 (or a USER in the image)", true);
}

Found writable_rootfs(const RuleInput& in, RuleEffects& fx) {
  if (bool_field(in.hc, "ReadonlyRootfs")) return {};
  HardeningPlan& plan = fx.plan;
  std::string which;
  bool wrote = writes_files(in.calls, &which);
  if (!in.in.changes.is_array()) {
    if (!wrote) {
      plan.read_only = true;
      return found(Severity::medium, "the root filesystem is writable and the recording shows no file written",
                   "--read-only", true);
    }
    fx.notes.push_back(fmt::format("read-only root filesystem not recommended: the workload writes files ({}) "
                                   "and where is unknown (paths are pointers; the container's changes were not "
                                   "collected)",
                                   which));
    return found(Severity::low,
                 fmt::format("the root filesystem is writable; the workload writes files ({}), where is unknown", which),
                 "--read-only with --tmpfs DIR (or a volume) for each directory it writes", false);
  }
  std::set<std::string> skip = {"/.sctrace", "/.sctrace-out", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                                "/dev", "/proc", "/sys"};
  const std::vector<Mount> ms = mounts(in.inspect);
  for (const auto& m : ms) skip.insert(m.destination);
  const json& tm = field(in.hc, "Tmpfs");
  if (tm.is_object())
    for (auto it = tm.begin(); it != tm.end(); ++it) skip.insert(it.key());
  // --init: the engine mounts its init binary there.
  if (bool_field(in.hc, "Init")) skip.insert("/sbin/docker-init");
  std::vector<std::pair<std::string, int>> changed;
  // The engine makes a WORKDIR the image lacks (an added entry, nothing
  // under it unless the workload wrote there).
  const std::string workdir = str_field(in.cfg, "WorkingDir");
  for (const auto& c : in.in.changes) {
    std::string p = str_field(c, "Path");
    if (!workdir.empty() && p == workdir && int_field(c, "Kind") == 1) continue;
    // A mount point's own directories (/sbin for /sbin/docker-init, /app
    // for -v X:/app/data) are the engine's doing, not the workload's.
    if (p.empty() || std::any_of(skip.begin(), skip.end(), [&](const std::string& s) { return under(p, s) || under(s, p); }))
      continue;
    changed.emplace_back(p, static_cast<int>(int_field(c, "Kind")));
  }
  plan.read_only = true;
  plan.tmpfs = tmpfs_dirs(changed);
  // Files created and removed again leave no trace in the changes (the
  // directory's copy-up is not reported either): the recording saw writes
  // that the end state does not show, so they were scratch files. /tmp is
  // the conventional place; the verification run checks the guess.
  // Writes into the container's own volumes and tmpfs mounts are not in
  // the changes either: with such a mount the writes are explained.
  bool writable_mounts = (tm.is_object() && !tm.empty()) ||
                         std::any_of(ms.begin(), ms.end(), [](const Mount& m) { return m.rw; });
  bool transient = wrote && plan.tmpfs.empty() && !writable_mounts;
  if (transient) {
    plan.tmpfs = {"/tmp"};
    fx.notes.push_back(fmt::format(
        "the workload wrote files ({}) that were gone when it stopped (the container's changes list none): "
        "assuming scratch files under /tmp, hence --tmpfs /tmp (verify with --verify-hardening)",
        which));
  }
  std::string fix = "--read-only" + (plan.tmpfs.empty() ? std::string() : " --tmpfs " + join(plan.tmpfs, " --tmpfs "));
  return found(Severity::medium,
               plan.tmpfs.empty() ? std::string("the root filesystem is writable and the workload wrote nothing to it")
               : transient        ? std::string("the root filesystem is writable and the workload kept nothing it wrote "
                                                "there")
                                  : fmt::format("the root filesystem is writable; the workload wrote only under {}",
                                                join(plan.tmpfs, ", ")),
               fix, true);
}

Found no_new_privileges(const RuleInput& in, RuleEffects&) {
  if (in.config.no_new_privileges) return {};
  return found(Severity::medium,
               "no-new-privileges is not set: setuid binaries and file capabilities can raise privileges",
               "--security-opt no-new-privileges", true);
}

Found no_memory_limit(const RuleInput& in, RuleEffects& fx) {
  if (int_field(in.hc, "Memory") > 0) return {};
  fx.plan.set_memory = true;
  return found(Severity::medium, "no memory limit", "--memory=512m (size it to the workload's peak)", true);
}

Found no_cpu_limit(const RuleInput& in, RuleEffects& fx) {
  if (int_field(in.hc, "NanoCpus") > 0 || int_field(in.hc, "CpuQuota") > 0) return {};
  fx.plan.set_cpus = true;
  return found(Severity::low, "no CPU limit", "--cpus=1 (size it to the workload)", true);
}

Found no_pids_limit(const RuleInput& in, RuleEffects& fx) {
  if (int_field(in.hc, "PidsLimit") > 0) return {};
  fx.plan.set_pids = true;
  return found(Severity::medium, "no process limit: a fork bomb takes the host's PID space", "--pids-limit=256", true);
}

Found seccomp_unconfined(const RuleInput& in, RuleEffects&) {
  if (!has_security_opt(in.hc, "seccomp", "unconfined")) return {};
  return found(Severity::high, "seccomp is disabled (seccomp=unconfined)",
               in.in.seccomp_profile_path.empty() ? std::string("remove seccomp=unconfined")
                                                  : "--security-opt seccomp=" + in.in.seccomp_profile_path,
               true);
}

Found apparmor_unconfined(const RuleInput& in, RuleEffects&) {
  if (!has_security_opt(in.hc, "apparmor", "unconfined")) return {};
  return found(Severity::high, "AppArmor is disabled (apparmor=unconfined)",
               "remove apparmor=unconfined (Docker's docker-default profile applies)", true);
}

Found selinux_disabled(const RuleInput& in, RuleEffects&) {
  if (!has_security_opt(in.hc, "label", "disable")) return {};
  return found(Severity::high, "SELinux labelling is disabled (label=disable)", "remove label=disable", true);
}

Found systempaths_unconfined(const RuleInput& in, RuleEffects&) {
  if (!has_security_opt(in.hc, "systempaths", "unconfined")) return {};
  return found(Severity::high, "/proc and /sys paths Docker masks are exposed (systempaths=unconfined)",
               "remove systempaths=unconfined", true);
}

Found cap_add_unused(const RuleInput& in, RuleEffects&) {
  std::vector<std::string> unused;
  for (const auto& c : str_list(field(in.hc, "CapAdd"))) {
    std::string n = short_cap(c);
    if (n == "ALL" || !in.caps.needed.count(n)) unused.push_back(n);
  }
  if (unused.empty()) return {};
  return found(Severity::medium,
               fmt::format("added capabilit{} never used: {}", unused.size() == 1 ? "y" : "ies", join(unused, ", ")),
               "remove --cap-add=" + join(unused, " --cap-add="), true);
}

Found excess_capabilities(const RuleInput& in, RuleEffects&) {
  if (in.config.privileged || in.cap_drop.empty()) return {};
  return found(Severity::low, fmt::format("the container keeps capabilities it never used: {}", join(in.cap_drop, ", ")),
               fmt::format("--cap-drop=ALL{}", cap_add_flags(in.cap_add)), true);
}

Found setid_binaries(const RuleInput& in, RuleEffects& fx) {
  if (!in.in.setid_files) {
    fx.notes.push_back("setuid/setgid binaries in the image were not scanned");
    return {};
  }
  const auto& f = *in.in.setid_files;
  if (f.empty()) return {};
  std::vector<std::string> shown(f.begin(), f.begin() + static_cast<long>(std::min<size_t>(f.size(), 8)));
  fx.notes.push_back(
      "the sensor traced the workload with no_new_privs set, so a setuid/setgid program it ran did not gain its "
      "privileges: what such a program does only when privileged is not in the recording");
  return found(Severity::medium,
               fmt::format("{} setuid/setgid file{} in the image: {}{}", f.size(), f.size() == 1 ? "" : "s",
                           join(shown, ", "), f.size() > shown.size() ? ", ..." : ""),
               fmt::format("remove the bits when building the image (RUN chmod u-s,g-s {}); no-new-privileges keeps "
                           "them from raising privileges meanwhile",
                           join(shown, " ")),
               false);
}

}  // namespace

const std::vector<Rule>& hardening_rules() {
  static const std::vector<Rule> rules = {
      {"privileged", privileged},
      {"host-network", host_network},
      {"host-pid", host_pid},
      {"host-ipc", host_ipc},
      {"host-uts", host_uts},
      {"port-all-interfaces", port_all_interfaces},
      {"link", link},
      {"sensitive-mount", sensitive_mount},
      {"writable-host-mount", writable_host_mount},
      {"secret-env", secret_env},
      {"root-user", root_user},
      {"writable-rootfs", writable_rootfs},
      {"no-new-privileges", no_new_privileges},
      {"no-memory-limit", no_memory_limit},
      {"no-cpu-limit", no_cpu_limit},
      {"no-pids-limit", no_pids_limit},
      {"seccomp-unconfined", seccomp_unconfined},
      {"apparmor-unconfined", apparmor_unconfined},
      {"selinux-disabled", selinux_disabled},
      {"systempaths-unconfined", systempaths_unconfined},
      {"cap-add-unused", cap_add_unused},
      {"excess-capabilities", excess_capabilities},
      {"setid-binaries", setid_binaries},
  };
  return rules;
}

void apply_rules(const RuleInput& input, HardeningReport& rep) {
  RuleEffects fx{rep.plan, rep.notes};
  for (const Rule& rule : hardening_rules()) {
    std::optional<Finding> f = rule.check(input, fx);
    if (!f) continue;
    f->id = std::string(rule.id);
    rep.findings.push_back(std::move(*f));
  }
  std::stable_sort(rep.findings.begin(), rep.findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) < static_cast<int>(b.severity);
  });
}

}  // namespace sctrace
