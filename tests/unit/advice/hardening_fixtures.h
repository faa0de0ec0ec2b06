#pragma once
// What the hardening tests share: a prefork-like recording, a server's
// inspect document and analyze_hardening over them.
#include <fcntl.h>
#include <seccomp.h>
#include <sys/socket.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "advice/hardening.h"
#include "profile/templates.h"

namespace sctrace::test {

using nlohmann::json;

inline constexpr arch::Token kX86_64 = SCMP_ARCH_X86_64;

inline SyscallRecord& call(Recording& rec, const std::string& name, uint64_t ok = 1, int err = 0) {
  SyscallRecord& r = rec.syscalls[kX86_64][name];
  r.nr = arch::syscall_nr(kX86_64, name).value_or(-1);
  r.count += ok + (err ? 1 : 0);
  r.first_pid = 7;
  r.ok += ok;
  if (err) r.errors[err] += 1;
  return r;
}

inline void args(Recording& rec, const std::string& name, unsigned idx, std::initializer_list<uint64_t> vals) {
  SyscallRecord& r = call(rec, name, 0);
  for (uint64_t v : vals) r.args[idx].add(v);
}

// What prefork_server does: bind (port 80 from the config), setgroups,
// setgid/setuid to 65534, kill(SIGTERM) its workers at shutdown.
inline Recording prefork_recording() {
  Recording rec;
  for (const char* n : {"read", "write", "close", "accept4", "listen", "bind", "setgroups", "wait4", "clone"})
    call(rec, n);
  args(rec, "socket", 0, {AF_INET});
  args(rec, "socket", 1, {SOCK_STREAM | SOCK_CLOEXEC});
  args(rec, "socket", 2, {0});
  call(rec, "socket");
  args(rec, "setgid", 0, {65534});
  call(rec, "setgid");
  args(rec, "setuid", 0, {65534});
  call(rec, "setuid");
  args(rec, "kill", 1, {15});
  call(rec, "kill");
  return rec;
}

inline json server_inspect() {
  return json::parse(R"({
    "Config": {"Image": "app:1", "User": "", "Env": ["PATH=/usr/bin:/bin"], "ExposedPorts": {"80/tcp": {}}},
    "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]},
                   "NetworkMode": "default", "CapAdd": null, "CapDrop": null, "SecurityOpt": null,
                   "Memory": 0, "NanoCpus": 0, "PidsLimit": null, "ReadonlyRootfs": false},
    "Mounts": []
  })");
}

inline HardeningReport analyze(const Recording& rec, const json& inspect, bool low_ports = false,
                        json changes = nullptr, std::optional<RunLine> line = std::nullopt) {
  HardeningInput in;
  in.recording = &rec;
  in.inspect = &inspect;
  in.tmpl = &docker_default_template();
  in.seccomp_profile_path = "/p/profile.json";
  in.unprivileged_low_ports = low_ports;
  in.changes = std::move(changes);
  in.line = std::move(line);
  return analyze_hardening(in);
}

inline bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

inline const Finding* finding(const HardeningReport& r, const std::string& id) {
  for (const auto& f : r.findings)
    if (f.id == id) return &f;
  return nullptr;
}

}  // namespace sctrace::test
