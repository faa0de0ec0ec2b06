#include "advice/capabilities.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>

#include "advice/container_config.h"
#include "advice/evidence.h"
#include "advice/inspect.h"

namespace sctrace {

using namespace advice;

CapInference infer_caps(const HardeningInput& in, const std::set<std::string>& had) {
  CapInference out;
  const nlohmann::json& inspect = *in.inspect;
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
        add(short_cap(c), name, &r, fmt::format("the seccomp template allows {} only with {}", name, c));
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

}  // namespace sctrace
