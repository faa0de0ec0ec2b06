#include "profile/hardening.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "profile/templates.h"

namespace sctrace {

using nlohmann::json;

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::high: return "high";
    case Severity::medium: return "medium";
    case Severity::low: return "low";
  }
  return "low";
}

std::optional<Severity> severity_from_name(std::string_view n) {
  if (n == "high") return Severity::high;
  if (n == "medium") return Severity::medium;
  if (n == "low") return Severity::low;
  return std::nullopt;
}

namespace {

// Capability names as Docker spells them (no CAP_), for --privileged and
// --cap-add=ALL: every capability Linux defines as of 6.x.
const std::vector<std::string>& all_caps() {
  static const std::vector<std::string> caps = {
      "AUDIT_CONTROL", "AUDIT_READ",      "AUDIT_WRITE",     "BLOCK_SUSPEND",  "BPF",
      "CHECKPOINT_RESTORE", "CHOWN",      "DAC_OVERRIDE",    "DAC_READ_SEARCH", "FOWNER",
      "FSETID",        "IPC_LOCK",        "IPC_OWNER",       "KILL",           "LEASE",
      "LINUX_IMMUTABLE", "MAC_ADMIN",     "MAC_OVERRIDE",    "MKNOD",          "NET_ADMIN",
      "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW",        "PERFMON",        "SETFCAP",
      "SETGID",        "SETPCAP",         "SETUID",          "SYSLOG",         "SYS_ADMIN",
      "SYS_BOOT",      "SYS_CHROOT",      "SYS_MODULE",      "SYS_NICE",       "SYS_PACCT",
      "SYS_PTRACE",    "SYS_RAWIO",       "SYS_RESOURCE",    "SYS_TIME",       "SYS_TTY_CONFIG",
      "WAKE_ALARM"};
  return caps;
}

std::string cap_name(std::string c) {
  for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (c.rfind("CAP_", 0) == 0) c.erase(0, 4);
  return c;
}

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

std::vector<std::string> str_list(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// Every arch's record of a syscall folded into one (the analysis is about
// what the workload did, not on which ABI).
std::map<std::string, SyscallRecord> by_name(const Recording& rec) {
  std::map<std::string, SyscallRecord> out;
  for (const auto& [arch, calls] : rec.syscalls)
    for (const auto& [name, r] : calls) {
      auto [it, fresh] = out.try_emplace(name, r);
      if (fresh) continue;
      SyscallRecord& m = it->second;
      m.count += r.count;
      m.ok += r.ok;
      for (const auto& [e, n] : r.errors) m.errors[e] += n;
      for (const auto& [i, v] : r.args) m.args[i].merge(v);
      if (m.first_pid == 0 || (r.first_pid != 0 && r.first_pid < m.first_pid)) m.first_pid = r.first_pid;
    }
  return out;
}

// Results are unknown for some backends: a call with neither successes nor
// errors counted is taken to have worked.
bool succeeded(const SyscallRecord& r) { return r.ok > 0 || (r.errors.empty() && r.count > 0); }

const ArgValues* arg(const SyscallRecord& r, unsigned idx) {
  auto it = r.args.find(idx);
  if (it == r.args.end() || it->second.overflow || it->second.values.empty()) return nullptr;
  return &it->second;
}

std::string args_text(const SyscallRecord& r) {
  std::vector<std::string> parts;
  for (const auto& [i, v] : r.args) {
    if (v.overflow) {
      parts.push_back(fmt::format("arg{}=(many)", i));
      continue;
    }
    std::vector<std::string> vals;
    for (uint64_t x : v.values) vals.push_back(x > 0xffff ? fmt::format("{:#x}", x) : fmt::format("{}", x));
    parts.push_back(fmt::format("arg{}={}", i, join(vals, "|")));
  }
  return join(parts, " ");
}

bool is_minus_one_id(uint64_t v) { return (v & 0xffffffffu) == 0xffffffffu; }

// The uid and gid the container starts as: Config.User "", "root", "0",
// "uid:gid"; -1 when it is a name only /etc/passwd of the image could resolve.
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

// Container ports (tcp/udp) from ExposedPorts and PortBindings.
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

bool host_mode(const json& hc, const char* key) { return str_field(hc, key) == "host"; }

struct CapInference {
  std::map<std::string, std::vector<CapEvidence>> needed;  // cap -> evidence
  std::vector<std::string> notes;
};

CapInference infer_caps(const HardeningInput& in, const std::set<std::string>& had) {
  CapInference out;
  const json& inspect = *in.inspect;
  auto calls = by_name(*in.recording);
  auto add = [&](const std::string& cap, const std::string& sc, const SyscallRecord* r, std::string rule) {
    out.needed[cap].push_back({cap, sc, r ? args_text(*r) : "", r ? r->first_pid : 0, std::move(rule)});
  };
  auto get = [&](const std::string& n) -> const SyscallRecord* {
    auto it = calls.find(n);
    return it == calls.end() ? nullptr : &it->second;
  };
  auto [uid, gid] = configured_ids(inspect);

  // An id change needs the capability unless the target is the id the process
  // already has (the configured one; -1 when unknown makes every target count).
  auto id_change = [&](const std::vector<std::string>& names, int64_t current, const std::string& cap,
                       const char* what) {
    for (const auto& n : names) {
      const SyscallRecord* r = get(n);
      if (!r || !succeeded(*r)) continue;
      bool counts = r->args.empty();
      for (const auto& [i, v] : r->args) {
        if (v.overflow) counts = true;
        for (uint64_t x : v.values)
          if (!is_minus_one_id(x) && (current < 0 || static_cast<int64_t>(x & 0xffffffffu) != current)) counts = true;
      }
      if (counts)
        add(cap, n, r, fmt::format("a successful {} to a {} other than the container's own", n, what));
    }
  };
  id_change({"setuid", "setuid32", "setreuid", "setreuid32", "setresuid", "setresuid32", "setfsuid", "setfsuid32"},
            uid, "SETUID", "uid");
  id_change({"setgid", "setgid32", "setregid", "setregid32", "setresgid", "setresgid32", "setfsgid", "setfsgid32"},
            gid, "SETGID", "gid");
  for (const char* n : {"setgroups", "setgroups32"})
    if (const SyscallRecord* r = get(n); r && succeeded(*r))
      add("SETGID", n, r, "setgroups always needs CAP_SETGID");

  for (const char* n : {"chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32"}) {
    const SyscallRecord* r = get(n);
    if (!r || !succeeded(*r)) continue;
    // owner/group both -1 changes nothing; fchownat's ids are args 2 and 3.
    bool counts = r->args.empty();
    for (const auto& [i, v] : r->args)
      for (uint64_t x : v.values)
        if (!is_minus_one_id(x) || v.overflow) counts = true;
    if (counts) add("CHOWN", n, r, "a successful chown-family call that changes an owner or group");
  }

  if (const SyscallRecord* r = get("socket"); r && succeeded(*r)) {
    const ArgValues* dom = arg(*r, 0);
    const ArgValues* type = arg(*r, 1);
    const ArgValues* proto = arg(*r, 2);
    auto has = [](const ArgValues* a, uint64_t v) { return a && a->values.count(v) > 0; };
    bool raw_type = false;
    if (type)
      for (uint64_t t : type->values)
        if ((t & 0xf) == SOCK_RAW) raw_type = true;
    // The recording keeps each argument's values apart, not the tuples: a raw
    // netlink socket next to a TCP one looks like AF_INET + SOCK_RAW. The
    // verification run is what removes such a false positive.
    if (has(dom, AF_PACKET))
      add("NET_RAW", "socket", r, "socket(AF_PACKET, ...) needs CAP_NET_RAW");
    else if (raw_type && (has(dom, AF_INET) || has(dom, AF_INET6)))
      add("NET_RAW", "socket", r, "socket(AF_INET/AF_INET6, SOCK_RAW, ...) needs CAP_NET_RAW");
    if (has(dom, AF_NETLINK) && has(proto, 9))
      add("AUDIT_WRITE", "socket", r, "socket(AF_NETLINK, ..., NETLINK_AUDIT) is how audit records are written");
  }

  for (auto [n, idx] : {std::pair{"mknod", 1u}, std::pair{"mknodat", 2u}}) {
    const SyscallRecord* r = get(n);
    if (!r || !succeeded(*r)) continue;
    const ArgValues* mode = arg(*r, idx);
    bool dev = !mode;
    if (mode)
      for (uint64_t m : mode->values)
        if ((m & S_IFMT) == S_IFCHR || (m & S_IFMT) == S_IFBLK) dev = true;
    if (dev) add("MKNOD", n, r, "a device node was created (FIFOs and sockets need no capability)");
  }

  if (const SyscallRecord* r = get("chroot"); r && succeeded(*r))
    add("SYS_CHROOT", "chroot", r, "chroot needs CAP_SYS_CHROOT");
  if (const SyscallRecord* r = get("capset"); r && succeeded(*r))
    add("SETPCAP", "capset", r, "capset may raise inheritable capabilities, which needs CAP_SETPCAP");
  if (const SyscallRecord* r = get("prctl"); r && succeeded(*r))
    if (const ArgValues* op = arg(*r, 0); op && (op->values.count(24) || op->values.count(28)))
      add("SETPCAP", "prctl", r, "prctl(PR_CAPBSET_DROP / PR_SET_SECUREBITS) needs CAP_SETPCAP");

  // KILL: the recording has no uids per process, so the rule is: a real
  // signal (not 0) was sent and the workload changed uid, i.e. its processes
  // run as different users and signalling across them needs CAP_KILL.
  if (out.needed.count("SETUID")) {
    for (auto [n, idx] : {std::pair{"kill", 1u}, std::pair{"tkill", 1u}, std::pair{"tgkill", 2u},
                          std::pair{"rt_sigqueueinfo", 1u}, std::pair{"rt_tgsigqueueinfo", 2u},
                          std::pair{"pidfd_send_signal", 1u}}) {
      const SyscallRecord* r = get(n);
      if (!r || !succeeded(*r)) continue;
      const ArgValues* sig = arg(*r, idx);
      bool real = !sig;
      if (sig)
        for (uint64_t s : sig->values)
          if (s != 0) real = true;
      if (real)
        add("KILL", n, r,
            "a signal was sent and the workload changed uid: its processes run as different users, and "
            "signalling across users needs CAP_KILL");
    }
  }

  // NET_BIND_SERVICE: bind's address is behind a pointer, so the port comes
  // from the configuration (exposed/published ports < 1024) and a successful
  // bind from the recording.
  if (const SyscallRecord* r = get("bind"); r && succeeded(*r)) {
    std::vector<std::string> low;
    for (int p : container_ports(inspect))
      if (p > 0 && p < 1024) low.push_back(std::to_string(p));
    if (!low.empty()) {
      bool host_net = host_mode(field(inspect, "HostConfig"), "NetworkMode");
      std::string why = fmt::format("a successful bind and port{} {} < 1024 exposed/published (the port itself is "
                                    "behind a pointer the recording cannot read)",
                                    low.size() == 1 ? "" : "s", join(low, ", "));
      if (host_net || !in.unprivileged_low_ports)
        add("NET_BIND_SERVICE", "bind", r, why);
      else
        out.notes.push_back(fmt::format(
            "NET_BIND_SERVICE not needed: {}, but the daemon sets net.ipv4.ip_unprivileged_port_start=0 in the "
            "container's own network namespace, so any port can be bound without it",
            why));
    }
  }

  // The template's capability-gated rules: a syscall it allows only with a
  // capability needs that capability (seccomp would deny it otherwise).
  if (in.tmpl) {
    EvalContext none;
    none.caps = {};
    for (const auto& [name, r] : calls) {
      bool ungated = false;
      std::vector<std::string> gate;
      for (const auto& rule : in.tmpl->syscalls) {
        if (rule.action != "SCMP_ACT_ALLOW" && rule.action != "SCMP_ACT_LOG") continue;
        if (std::find(rule.names.begin(), rule.names.end(), name) == rule.names.end()) continue;
        if (rule.includes.caps.empty()) {
          if (rule_applies(rule, none)) ungated = true;
        } else if (gate.empty()) {
          gate = rule.includes.caps;
        }
      }
      if (ungated || gate.empty() || !succeeded(r)) continue;
      for (const auto& c : gate)
        add(cap_name(c), name, &r, fmt::format("the seccomp template allows {} only with {}", name, c));
    }
  }

  // Only what the container had can be needed: a call that worked without
  // the capability proves it is not.
  for (auto it = out.needed.begin(); it != out.needed.end();) {
    if (!had.count(it->first)) {
      out.notes.push_back(fmt::format("{} has evidence ({}) but the container did not have it, so it is not needed",
                                      it->first, it->second.front().syscall));
      it = out.needed.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<std::string> dac;
  for (const char* c : {"DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID"})
    if (had.count(c)) dac.push_back(c);
  if (!dac.empty())
    out.notes.push_back(fmt::format(
        "{} dropped: {} on file ownership, which a recording does not carry; the verification run "
        "(--verify-hardening) adds {} back if the workload fails without",
        join(dac, ", "), dac.size() == 1 ? "it depends" : "they depend", dac.size() == 1 ? "it" : "them"));
  if (had.count("SETFCAP"))
    out.notes.push_back("SETFCAP dropped: setting file capabilities goes through setxattr, whose name is a pointer "
                        "the recording cannot read; the verification run (--verify-hardening) adds it back if needed");
  return out;
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

struct Mount {
  std::string type, source, destination;
  bool rw = true;
};

std::vector<Mount> mounts(const json& inspect) {
  std::vector<Mount> out;
  const json& m = field(inspect, "Mounts");
  if (m.is_array() && !m.empty()) {
    for (const auto& e : m)
      out.push_back({str_field(e, "Type"), str_field(e, "Source"), str_field(e, "Destination"),
                     !field(e, "RW").is_boolean() || field(e, "RW").get<bool>()});
    return out;
  }
  // No Mounts (an inspect from before the daemon resolved them): the binds.
  for (const auto& b : str_list(field(field(inspect, "HostConfig"), "Binds"))) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= b.size(); ++i)
      if (i == b.size() || b[i] == ':') {
        parts.push_back(b.substr(start, i - start));
        start = i + 1;
      }
    if (parts.size() < 2) continue;
    bool ro = parts.size() > 2 && parts[2].find("ro") != std::string::npos;
    out.push_back({parts[0].rfind('/', 0) == 0 ? "bind" : "volume", parts[0], parts[1], !ro});
  }
  return out;
}

bool secret_name(const std::string& name) {
  std::string u = upper(name);
  for (const char* w : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE"})
    if (u.find(w) != std::string::npos) return true;
  return false;
}

// Values that look like key material whatever the variable is called.
bool secret_value(const std::string& v) {
  if (v.find("-----BEGIN") != std::string::npos) return true;
  for (const char* p : {"AKIA", "ghp_", "github_pat_", "sk_live_", "xoxb-", "xoxp-", "glpat-"})
    if (v.rfind(p, 0) == 0 && v.size() >= 16) return true;
  if (v.size() < 32) return false;
  bool digit = false, alpha = false;
  for (char c : v) {
    if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
    else if (std::isalpha(static_cast<unsigned char>(c))) alpha = true;
    else if (c != '+' && c != '/' && c != '=' && c != '_' && c != '-') return false;
  }
  return digit && alpha;
}

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

// Syscalls that change the file system (on success), for "did it write".
bool writes_files(const std::map<std::string, SyscallRecord>& calls, std::string* which) {
  for (auto [n, idx] : {std::pair{"openat", 2u}, std::pair{"open", 1u}}) {
    auto it = calls.find(n);
    if (it == calls.end() || !succeeded(it->second)) continue;
    const ArgValues* flags = arg(it->second, idx);
    bool w = !flags;
    if (flags)
      for (uint64_t f : flags->values)
        if ((f & O_ACCMODE) != O_RDONLY || (f & (O_CREAT | O_TRUNC))) w = true;
    if (w) {
      *which = n + std::string(" for writing");
      return true;
    }
  }
  for (const char* n : {"creat", "mkdir", "mkdirat", "rename", "renameat", "renameat2", "unlink", "unlinkat",
                        "rmdir", "link", "linkat", "symlink", "symlinkat", "truncate", "mknod", "mknodat"}) {
    auto it = calls.find(n);
    if (it != calls.end() && succeeded(it->second)) {
      *which = n;
      return true;
    }
  }
  return false;
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

// ---- argv rewrite -------------------------------------------------------------

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
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= v.size(); ++i)
    if (i == v.size() || v[i] == ':') {
      parts.push_back(v.substr(start, i - start));
      start = i + 1;
    }
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

std::string yaml_str(const std::string& s) { return json(s).dump(); }

}  // namespace

bool looks_like_secret(std::string_view name, std::string_view value) {
  return !value.empty() && (secret_name(std::string(name)) || secret_value(std::string(value)));
}

std::vector<std::string> without_secrets(const std::vector<std::string>& argv) {
  std::vector<std::string> out = argv;
  auto redact = [](std::string& assignment) {
    const size_t eq = assignment.find('=');
    if (eq != std::string::npos && looks_like_secret(assignment.substr(0, eq), assignment.substr(eq + 1)))
      assignment.resize(eq);
  };
  for (size_t i = 0; i < out.size(); ++i) {
    std::string& a = out[i];
    if ((a == "-e" || a == "--env") && i + 1 < out.size()) {
      redact(out[++i]);
    } else if (a.rfind("--env=", 0) == 0) {
      std::string v = a.substr(6);
      redact(v);
      a = "--env=" + v;
    } else if (a.rfind("-e", 0) == 0 && a.size() > 2 && a[2] != '-') {
      std::string v = a.substr(2);
      redact(v);
      a = "-e" + v;
    }
  }
  return out;
}

std::vector<std::string> configured_caps(const json& inspect) {
  const json& hc = field(inspect, "HostConfig");
  std::set<std::string> caps;
  if (field(hc, "Privileged").is_boolean() && field(hc, "Privileged").get<bool>()) {
    caps.insert(all_caps().begin(), all_caps().end());
    return {caps.begin(), caps.end()};
  }
  for (const auto& c : docker_default_caps()) caps.insert(cap_name(c));
  for (const auto& c : str_list(field(hc, "CapDrop"))) {
    std::string n = cap_name(c);
    if (n == "ALL") caps.clear();
    else caps.erase(n);
  }
  for (const auto& c : str_list(field(hc, "CapAdd"))) {
    std::string n = cap_name(c);
    if (n == "ALL") caps.insert(all_caps().begin(), all_caps().end());
    else caps.insert(n);
  }
  return {caps.begin(), caps.end()};
}

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

size_t count_at_or_above(const HardeningReport& r, Severity threshold) {
  return static_cast<size_t>(std::count_if(r.findings.begin(), r.findings.end(), [&](const Finding& f) {
    return static_cast<int>(f.severity) <= static_cast<int>(threshold);
  }));
}

HardeningReport analyze_hardening(const HardeningInput& in) {
  if (!in.recording || !in.inspect) fail(ErrorKind::input, "hardening analysis needs a recording and the container's configuration");
  const json& inspect = *in.inspect;
  const json& hc = field(inspect, "HostConfig");
  const json& cfg = field(inspect, "Config");
  HardeningReport rep;
  rep.image = str_field(cfg, "Image");
  RunLine line = in.line ? *in.line : run_line_from_inspect(inspect);
  if (line.image.empty()) line.image = rep.image;

  std::vector<std::string> had_v = configured_caps(inspect);
  std::set<std::string> had(had_v.begin(), had_v.end());
  CapInference caps = infer_caps(in, had);
  for (const auto& [cap, ev] : caps.needed) {
    rep.cap_add.push_back(cap);
    rep.evidence.insert(rep.evidence.end(), ev.begin(), ev.end());
  }
  for (const auto& c : had)
    if (!caps.needed.count(c)) rep.cap_drop.push_back(c);
  rep.notes = caps.notes;

  auto add = [&](std::string id, Severity s, std::string msg, std::string fix, bool fixed) {
    for (const auto& f : rep.findings)
      if (f.id == id) return;
    rep.findings.push_back({std::move(id), s, std::move(msg), std::move(fix), fixed});
  };
  auto flag_on = [&](const char* k) { return field(hc, k).is_boolean() && field(hc, k).get<bool>(); };

  HardeningPlan& plan = rep.plan;
  plan.cap_add = rep.cap_add;
  plan.seccomp_profile = in.seccomp_profile_path;

  if (flag_on("Privileged"))
    add("privileged", Severity::high,
        "the container runs --privileged: every capability, every device, no seccomp, no AppArmor",
        fmt::format("remove --privileged; grant only --cap-drop=ALL{}", rep.cap_add.empty() ? std::string() :
                    " --cap-add=" + join(rep.cap_add, " --cap-add=")),
        true);
  if (host_mode(hc, "NetworkMode")) {
    const std::vector<int> exposed = exposed_tcp_ports(inspect);
    std::vector<std::string> ports;
    for (int p : exposed) ports.push_back(std::to_string(p));
    add("host-network", Severity::high, "the container shares the host's network namespace (--network host)",
        exposed.empty()
            ? std::string("remove --network host and publish the ports it serves on a specific address "
                          "(-p 127.0.0.1:PORT:PORT); not applied: the image exposes no port and the recording "
                          "does not say which ones it binds")
            : fmt::format("remove --network host and publish the ports it serves on a specific address; applied "
                          "for the image's EXPOSEd port{} {} (-p 127.0.0.1:PORT:PORT): a service listening on "
                          "another port needs its own -p",
                          exposed.size() == 1 ? "" : "s", join(ports, ", ")),
        !exposed.empty());
  }
  if (host_mode(hc, "PidMode"))
    add("host-pid", Severity::high, "the container shares the host's PID namespace (--pid host): it sees and can "
        "signal host processes", "remove --pid host", true);
  if (host_mode(hc, "IpcMode"))
    add("host-ipc", Severity::high, "the container shares the host's IPC namespace (--ipc host)", "remove --ipc host",
        true);
  if (host_mode(hc, "UTSMode"))
    add("host-uts", Severity::medium, "the container shares the host's UTS namespace (--uts host): it can change the "
        "host's hostname", "remove --uts host", true);

  {
    std::vector<std::string> open;
    const json& pb = field(hc, "PortBindings");
    if (pb.is_object())
      for (auto it = pb.begin(); it != pb.end(); ++it)
        if (it->is_array())
          for (const auto& b : *it) {
            std::string ip = str_field(b, "HostIp");
            if (ip.empty() || ip == "0.0.0.0" || ip == "::")
              open.push_back(fmt::format("{}->{}", str_field(b, "HostPort").empty() ? "random" : str_field(b, "HostPort"),
                                         it.key()));
          }
    if (flag_on("PublishAllPorts")) open.push_back("all exposed ports (-P)");
    if (!open.empty())
      add("port-all-interfaces", Severity::medium,
          fmt::format("published on every host interface: {}", join(open, ", ")),
          "bind to 127.0.0.1 or a specific address: -p 127.0.0.1:HOSTPORT:PORT", true);
  }
  if (auto links = str_list(field(hc, "Links")); !links.empty())
    add("link", Severity::medium, fmt::format("legacy --link ({}): shares the linked container's environment, "
                                             "secrets included", join(links, ", ")),
        "remove --link; put both containers on a user-defined network (docker network create NET; --network NET) "
        "and use the container name as host name",
        false);

  {
    std::vector<std::string> sensitive, writable;
    for (const auto& m : mounts(inspect)) {
      if (m.type != "bind") continue;
      if (sensitive_path(m.source)) sensitive.push_back(fmt::format("{}:{}{}", m.source, m.destination, m.rw ? "" : ":ro"));
      else if (m.rw) writable.push_back(fmt::format("{}:{}", m.source, m.destination));
    }
    if (!sensitive.empty())
      add("sensitive-mount", Severity::high, fmt::format("sensitive host path mounted: {}", join(sensitive, ", ")),
          "remove the mount, or mount only the file the workload needs, read-only (-v SRC:DST:ro); the hardened "
          "command makes it read-only",
          true);
    if (!writable.empty())
      add("writable-host-mount", Severity::medium, fmt::format("host directory mounted writable: {}", join(writable, ", ")),
          "mount it read-only (-v SRC:DST:ro) unless the workload writes there; prefer a named volume", false);
  }

  {
    std::vector<std::string> names;
    for (const auto& e : str_list(field(cfg, "Env"))) {
      size_t eq = e.find('=');
      std::string n = e.substr(0, eq), v = eq == std::string::npos ? "" : e.substr(eq + 1);
      if (v.empty()) continue;
      if (looks_like_secret(n, v)) names.push_back(n);
    }
    if (!names.empty())
      add("secret-env", Severity::high,
          fmt::format("secret-looking environment variable{}: {} (visible to docker inspect and every process in the "
                      "container)", names.size() == 1 ? "" : "s", join(names, ", ")),
          "pass secrets as files: a Docker/compose secret or a read-only bind of a 0400 file (-v /path/secret:/run/"
          "secrets/NAME:ro), and have the workload read them from there",
          false);
  }

  auto calls = by_name(*in.recording);
  bool uid_change = caps.needed.count("SETUID") || caps.needed.count("SETGID");
  if (runs_as_root(inspect)) {
    if (rep.cap_add.empty() && !uid_change) {
      plan.user = "65534:65534";
      add("root-user", Severity::medium,
          "the container runs as root, and the recording shows nothing that needed root after start (no uid/gid "
          "change, chown, low-port bind or other capability use)",
          "run as an unprivileged user: --user 65534:65534 (or a USER in the image)", true);
    }
  }

  if (!flag_on("ReadonlyRootfs")) {
    std::string which;
    bool wrote = writes_files(calls, &which);
    std::set<std::string> skip = {"/.sctrace", "/.sctrace-out", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                                  "/dev", "/proc", "/sys"};
    for (const auto& m : mounts(inspect)) skip.insert(m.destination);
    const json& tm = field(hc, "Tmpfs");
    if (tm.is_object())
      for (auto it = tm.begin(); it != tm.end(); ++it) skip.insert(it.key());
    // --init: the engine mounts its init binary there.
    if (field(hc, "Init").is_boolean() && field(hc, "Init").get<bool>()) skip.insert("/sbin/docker-init");
    if (in.changes.is_array()) {
      std::vector<std::pair<std::string, int>> changed;
      // The engine makes a WORKDIR the image lacks (an added entry, nothing
      // under it unless the workload wrote there).
      const std::string workdir = str_field(field(inspect, "Config"), "WorkingDir");
      for (const auto& c : in.changes) {
        std::string p = str_field(c, "Path");
        if (!workdir.empty() && p == workdir && int_field(c, "Kind") == 1) continue;
        // A mount point's own directories (/sbin for /sbin/docker-init, /app
        // for -v X:/app/data) are the engine's doing, not the workload's.
        if (p.empty() ||
            std::any_of(skip.begin(), skip.end(), [&](const std::string& s) { return under(p, s) || under(s, p); }))
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
      std::vector<Mount> ms = mounts(inspect);
      bool writable_mounts = (tm.is_object() && !tm.empty()) ||
                             std::any_of(ms.begin(), ms.end(), [](const Mount& m) { return m.rw; });
      bool transient = wrote && plan.tmpfs.empty() && !writable_mounts;
      if (transient) {
        plan.tmpfs = {"/tmp"};
        rep.notes.push_back(fmt::format(
            "the workload wrote files ({}) that were gone when it stopped (the container's changes list none): "
            "assuming scratch files under /tmp, hence --tmpfs /tmp (verify with --verify-hardening)",
            which));
      }
      std::string fix = "--read-only" + (plan.tmpfs.empty() ? std::string() : " --tmpfs " + join(plan.tmpfs, " --tmpfs "));
      add("writable-rootfs", Severity::medium,
          plan.tmpfs.empty() ? std::string("the root filesystem is writable and the workload wrote nothing to it")
          : transient        ? std::string("the root filesystem is writable and the workload kept nothing it wrote there")
                             : fmt::format("the root filesystem is writable; the workload wrote only under {}",
                                           join(plan.tmpfs, ", ")),
          fix, true);
    } else if (!wrote) {
      plan.read_only = true;
      add("writable-rootfs", Severity::medium,
          "the root filesystem is writable and the recording shows no file written", "--read-only", true);
    } else {
      rep.notes.push_back(fmt::format("read-only root filesystem not recommended: the workload writes files ({}) "
                                      "and where is unknown (paths are pointers; the container's changes were not "
                                      "collected)",
                                      which));
      add("writable-rootfs", Severity::low,
          fmt::format("the root filesystem is writable; the workload writes files ({}), where is unknown", which),
          "--read-only with --tmpfs DIR (or a volume) for each directory it writes", false);
    }
  }

  if (!has_security_opt(hc, "no-new-privileges", "") ||
      has_security_opt(hc, "no-new-privileges", "false"))
    add("no-new-privileges", Severity::medium,
        "no-new-privileges is not set: setuid binaries and file capabilities can raise privileges",
        "--security-opt no-new-privileges", true);
  if (int_field(hc, "Memory") <= 0) {
    plan.set_memory = true;
    add("no-memory-limit", Severity::medium, "no memory limit", "--memory=512m (size it to the workload's peak)",
        true);
  }
  if (int_field(hc, "NanoCpus") <= 0 && int_field(hc, "CpuQuota") <= 0) {
    plan.set_cpus = true;
    add("no-cpu-limit", Severity::low, "no CPU limit", "--cpus=1 (size it to the workload)", true);
  }
  if (int_field(hc, "PidsLimit") <= 0) {
    plan.set_pids = true;
    add("no-pids-limit", Severity::medium, "no process limit: a fork bomb takes the host's PID space",
        "--pids-limit=256", true);
  }
  if (has_security_opt(hc, "seccomp", "unconfined"))
    add("seccomp-unconfined", Severity::high, "seccomp is disabled (seccomp=unconfined)",
        in.seccomp_profile_path.empty() ? std::string("remove seccomp=unconfined")
                                        : "--security-opt seccomp=" + in.seccomp_profile_path,
        true);
  if (has_security_opt(hc, "apparmor", "unconfined"))
    add("apparmor-unconfined", Severity::high, "AppArmor is disabled (apparmor=unconfined)",
        "remove apparmor=unconfined (Docker's docker-default profile applies)", true);
  if (has_security_opt(hc, "label", "disable"))
    add("selinux-disabled", Severity::high, "SELinux labelling is disabled (label=disable)", "remove label=disable",
        true);
  if (has_security_opt(hc, "systempaths", "unconfined"))
    add("systempaths-unconfined", Severity::high, "/proc and /sys paths Docker masks are exposed "
        "(systempaths=unconfined)", "remove systempaths=unconfined", true);
  {
    std::vector<std::string> unused;
    for (const auto& c : str_list(field(hc, "CapAdd"))) {
      std::string n = cap_name(c);
      if (n == "ALL" || !caps.needed.count(n)) unused.push_back(n);
    }
    if (!unused.empty())
      add("cap-add-unused", Severity::medium,
          fmt::format("added capabilit{} never used: {}", unused.size() == 1 ? "y" : "ies", join(unused, ", ")),
          "remove --cap-add=" + join(unused, " --cap-add="), true);
  }
  if (!flag_on("Privileged") && !rep.cap_drop.empty())
    add("excess-capabilities", Severity::low,
        fmt::format("the container keeps capabilities it never used: {}", join(rep.cap_drop, ", ")),
        fmt::format("--cap-drop=ALL{}", rep.cap_add.empty() ? std::string() : " --cap-add=" + join(rep.cap_add, " --cap-add=")),
        true);
  if (!in.setid_files) {
    rep.notes.push_back("setuid/setgid binaries in the image were not scanned");
  } else if (!in.setid_files->empty()) {
    const auto& f = *in.setid_files;
    std::vector<std::string> shown(f.begin(), f.begin() + static_cast<long>(std::min<size_t>(f.size(), 8)));
    add("setid-binaries", Severity::medium,
        fmt::format("{} setuid/setgid file{} in the image: {}{}", f.size(), f.size() == 1 ? "" : "s", join(shown, ", "),
                    f.size() > shown.size() ? ", ..." : ""),
        fmt::format("remove the bits when building the image (RUN chmod u-s,g-s {}); no-new-privileges keeps "
                    "them from raising privileges meanwhile",
                    join(shown, " ")),
        false);
    rep.notes.push_back(
        "the sensor traced the workload with no_new_privs set, so a setuid/setgid program it ran did not gain its "
        "privileges: what such a program does only when privileged is not in the recording");
  }

  std::stable_sort(rep.findings.begin(), rep.findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) < static_cast<int>(b.severity);
  });
  rep.hardened_command = hardened_argv(line, plan, inspect);
  rep.compose_yaml = compose_yaml(plan, line, inspect);
  rep.k8s_yaml = k8s_security_context_yaml(plan);
  return rep;
}

}  // namespace sctrace
